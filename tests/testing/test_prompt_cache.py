"""The modelled prompt cache: each slot remembers its last prompt; prefill only for the rest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

from chimera.testing import TestServer
from chimera.testing.__main__ import build_parser, config_from_args

if TYPE_CHECKING:
    from conftest import Clients

Start = Callable[..., Awaitable[TestServer]]
MS = 1_000_000
PROMPT = "alpha beta gamma delta"


async def _generate(http: Any, prompt: str, **extra: Any) -> dict[str, Any]:
    body = {"model": "tiny", "prompt": prompt, "stream": False, **extra}
    r = await http.post("/api/generate", json=body)
    assert r.status_code == 200
    answer: dict[str, Any] = r.json()
    return answer


async def test_the_same_prompt_again_pays_for_its_last_token_only(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(prompt_cache=True, slots=1, prefill_ms=200)
    http = clients.http(srv)
    started = time.perf_counter()
    cold = await _generate(http, PROMPT)
    cold_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    warm = await _generate(http, PROMPT)
    warm_ms = (time.perf_counter() - started) * 1000
    assert (cold["prompt_eval_count"], cold["prompt_eval_duration"]) == (4, 200 * MS)
    # fully cached: the last token is evaluated again (its logits give the first token)
    assert (warm["prompt_eval_count"], warm["prompt_eval_duration"]) == (1, 50 * MS)
    assert cold_ms >= 195 and 45 <= warm_ms < 150
    # the context array still covers the whole prompt
    assert len(warm["context"]) == 4 + warm["eval_count"]


async def test_a_different_first_word_pays_the_whole_prefill(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(prompt_cache=True, slots=1, prefill_ms=200)
    http = clients.http(srv)
    await _generate(http, PROMPT)
    changed = await _generate(http, "omega beta gamma delta")
    assert (changed["prompt_eval_count"], changed["prompt_eval_duration"]) == (4, 200 * MS)
    shared = await _generate(http, "omega beta other words")  # two words in common
    assert (shared["prompt_eval_count"], shared["prompt_eval_duration"]) == (2, 100 * MS)


async def test_the_system_prompt_comes_first(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(prompt_cache=True, slots=1, prefill_ms=100)
    http = clients.http(srv)
    await _generate(http, "first question", system="you are terse")
    other = await _generate(http, "second question", system="you are terse")
    assert other["prompt_eval_count"] == 2  # "you are terse" (3 of 5 words) was cached


async def test_chat_messages_are_the_prompt(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(prompt_cache=True, prefill_ms=40)
    client = clients.ollama(srv)
    history = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]
    first = await client.chat(model="tiny", messages=history)
    follow = [
        *history,
        {"role": "assistant", "content": first.message.content},
        {"role": "user", "content": "and again"},
    ]
    second = await client.chat(model="tiny", messages=follow)
    assert first.prompt_eval_count == 4
    new_words = len(first.message.content.split()) + 2
    assert second.prompt_eval_count == new_words
    assert second.prompt_eval_duration == round(40 * MS * new_words / (4 + new_words))


@pytest.mark.parametrize("slots", [2, 0])
async def test_concurrent_requests_keep_a_slot_each(
    slots: int, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(prompt_cache=True, slots=slots, prefill_ms=50, token_interval_ms=5)
    http = clients.http(srv)
    prompts = ["one two three four", "five six seven eight"]
    cold = await asyncio.gather(*(_generate(http, p) for p in prompts))
    warm = await asyncio.gather(*(_generate(http, p) for p in prompts))
    assert [a["prompt_eval_count"] for a in cold] == [4, 4]
    assert [a["prompt_eval_count"] for a in warm] == [1, 1]  # each found its own slot's cache
    assert srv.max_in_flight == 2


async def test_one_slot_holds_one_prompt(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(prompt_cache=True, slots=1, prefill_ms=20)
    http = clients.http(srv)
    await _generate(http, PROMPT)
    await _generate(http, "something else entirely")
    assert (await _generate(http, PROMPT))["prompt_eval_count"] == 4


async def test_off_by_default(chimera_server: Start, clients: Clients) -> None:
    srv = await chimera_server(prefill_ms=20)
    http = clients.http(srv)
    answers = [await _generate(http, PROMPT) for _ in range(2)]
    assert [a["prompt_eval_duration"] for a in answers] == [20 * MS, 20 * MS]


async def test_openai_reports_the_cache_as_llama_server_does(
    chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(
        protocol="openai", prompt_cache=True, slots=1, prefill_ms=80, llamacpp_timings=True
    )
    http = clients.http(srv)
    body = {"model": "tiny:latest", "messages": [{"role": "user", "content": PROMPT}]}
    answers = [(await http.post("/v1/chat/completions", json=body)).json() for _ in range(2)]
    # usage counts the whole prompt; the timings block splits it into evaluated and cached
    assert [a["usage"]["prompt_tokens"] for a in answers] == [4, 4]
    timings = answers[1]["timings"]
    assert (timings["prompt_n"], timings["cache_n"], timings["prompt_ms"]) == (1, 3, 20.0)
    assert answers[0]["timings"]["cache_n"] == 0


def test_the_command_line_flag() -> None:
    args = build_parser().parse_args(["--prompt-cache", "--slots", "2"])
    assert config_from_args(args).prompt_cache is True
    assert config_from_args(build_parser().parse_args([])).prompt_cache is False
