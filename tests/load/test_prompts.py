"""Synthetic prompts calibrated on the server's own counts, and prompts files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from chimera.backends.base import EndpointSettings, create_backend, generate
from chimera.errors import ConfigError
from chimera.load.prompts import (
    ESTIMATE,
    NO_ANSWER_ESTIMATE,
    Calibration,
    PromptEntry,
    Prompts,
    calibrate,
    read_prompts,
)
from chimera.options import InferenceOptions
from chimera.testing import TestServer


def _prompts(nonce: str | None = "abc123", entries: Sequence[PromptEntry] = ()) -> Prompts:
    options = InferenceOptions(num_predict=4)
    return Prompts("tiny:latest", options, input_tokens=50, nonce=nonce, entries=entries)


async def test_calibration_hits_the_target_by_the_servers_count() -> None:
    # the modelled server counts a word as a token, template and nonce included
    p = _prompts()
    async with (
        TestServer(fast=True) as srv,
        create_backend(EndpointSettings(url=srv.url)) as backend,
    ):
        p.calibration = await calibrate(backend, p)
        result = await generate(backend, p.request(3))
    assert p.calibration.calibrated and p.calibration.tokens_per_word == 1.0
    assert result.metrics.prompt_tokens == 50


async def test_a_server_without_prompt_counts_leaves_the_target_estimated() -> None:
    p = _prompts()
    async with (
        TestServer(protocol="openai", fast=True, usage_in_stream=False) as srv,
        create_backend(EndpointSettings(kind="openai", url=srv.url)) as backend,
    ):
        assert await calibrate(backend, p) == ESTIMATE
    assert not ESTIMATE.calibrated and "estimated" in ESTIMATE.note


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
@pytest.mark.parametrize("apart", [False, True])
async def test_probes_spent_on_reasoning_still_count_the_prompt(protocol: str, apart: bool) -> None:
    # the one-token probes get a reasoning token and no answer text: the prompt the server
    # counted is counted all the same, in either shape of reasoning
    p = _prompts()
    cfg = {"protocol": protocol, "responses": ["<think>a b c</think> Yes."]}
    async with (
        TestServer(fast=True, reasoning_apart=apart, **cfg) as srv,
        create_backend(EndpointSettings(kind=protocol, url=srv.url)) as backend,
    ):
        p.calibration = await calibrate(backend, p)
    assert p.calibration.calibrated and p.calibration.tokens_per_word == 1.0
    assert p.calibration.note.startswith("calibrated")


async def test_probes_with_no_answer_and_no_prompt_count_say_why_they_estimate() -> None:
    p = _prompts()
    cfg = {"responses": ["<think>a b c</think> Yes."], "reasoning_apart": True}
    async with (
        TestServer(protocol="openai", fast=True, usage_in_stream=False, **cfg) as srv,
        create_backend(EndpointSettings(kind="openai", url=srv.url)) as backend,
    ):
        assert await calibrate(backend, p) == NO_ANSWER_ESTIMATE
    assert "no answer text" in NO_ANSWER_ESTIMATE.note
    assert "no prompt token count" in NO_ANSWER_ESTIMATE.note


def test_each_request_starts_with_its_own_nonce_unless_the_cache_is_kept() -> None:
    p = _prompts()
    a, b = (p.request(i).messages[0].content for i in (0, 1))  # type: ignore[index]
    assert a.splitlines()[0] == "[chimera abc123 q0]" and b.splitlines()[0] == "[chimera abc123 q1]"
    assert a.splitlines()[1:] != b.splitlines()[1:]  # different words too
    kept = _prompts(nonce=None)
    assert kept.request(0) == kept.request(1)
    assert not kept.request(0).messages[0].content.startswith("[chimera")  # type: ignore[index]


def test_a_prompts_file_is_served_in_turn(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text(
        '{"prompt": "Say hi."}\n\n'
        '{"messages": [{"role": "user", "content": "Count to 3."}], "max_tokens": 9}\n',
        encoding="utf-8",
    )
    p = _prompts(entries=read_prompts(f))
    r0, r1, r2 = (p.request(i) for i in range(3))
    assert r0.prompt == "[chimera abc123 q0]\nSay hi." and r0.options.num_predict == 4
    assert r1.messages is not None and r1.messages[0].content.endswith("Count to 3.")
    assert r1.options.num_predict == 9
    assert r2.prompt == "[chimera abc123 q2]\nSay hi."


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("not json", "line 2"),
        ('{"prompt": "a", "messages": []}', "exactly one"),
        ('{"messages": [{"role": "robot", "content": "x"}]}', "bad message"),
        ('{"prompt": "a", "output_tokens": 0}', "positive integer"),
        ("[1, 2]", "JSON object"),
        ("3", "the line is a number, not a JSON object"),
        (
            '{"prompt": "a", "max_token": 5}',
            "unknown key 'max_token'; the keys allowed are prompt, messages, output_tokens, "
            "max_tokens",
        ),
        ('{"prompt": "a", "input_tokens": 5}', "unknown key 'input_tokens'"),
    ],
)
def test_a_bad_prompts_line_is_named(tmp_path: Path, line: str, why: str) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "fine"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=why) as info:
        read_prompts(f)
    assert "line 2" in str(info.value) and info.value.exit_code == 2


def test_a_missing_or_empty_prompts_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        read_prompts(tmp_path / "none.jsonl")
    (tmp_path / "e.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no prompts"):
        read_prompts(tmp_path / "e.jsonl")


async def test_calibration_with_the_prompt_cache_kept_still_measures_whole_prompts() -> None:
    # the requests repeat one prompt; the probes must not, or the cache would hide their size
    p = _prompts(nonce=None)
    async with (
        TestServer(fast=True, prompt_cache=True) as srv,
        create_backend(EndpointSettings(url=srv.url)) as backend,
    ):
        p.calibration = await calibrate(backend, p)
    assert p.calibration.calibrated and p.calibration.tokens_per_word == 1.0
    assert p.request(0) == p.request(5)


def test_a_target_is_raised_only_when_no_word_fits_beside_the_overhead() -> None:
    cal = Calibration(1.3, 27.0, True, "")
    assert cal.smallest_tokens == 28  # the overhead and one word
    assert cal.raises(5) and cal.raises(27) and not cal.raises(28)
    assert not ESTIMATE.raises(1)  # no overhead measured: one word is always room


async def test_a_target_below_the_overhead_is_named_with_the_size_the_server_sees() -> None:
    # the modelled server counts a word as a token: 17 of instruction and nonce line
    p = _prompts()
    p.input_tokens = 5
    async with (
        TestServer(fast=True) as srv,
        create_backend(EndpointSettings(url=srv.url)) as backend,
    ):
        p.calibration = await calibrate(backend, p)
        result = await generate(backend, p.request(0))
    raised = p.raised_sizes()
    assert raised is not None and raised.targets == (5,)
    assert raised.smallest_tokens == result.metrics.prompt_tokens == 18
    assert raised.note.startswith(
        "--input-tokens 5 is below the smallest prompt this server sees: 18 tokens (the fixed 17"
    )
    assert raised.as_dict()["smallest_tokens"] == 18
    p.input_tokens = 18
    assert p.raised_sizes() is None


def test_a_traces_small_targets_are_named_once_each() -> None:
    synthetic = [PromptEntry(None, None, None, size) for size in (8, 1, 40, 8, None)]
    p = _prompts(entries=[*synthetic, PromptEntry("a prompt", None, None, 2)])
    p.calibration = Calibration(1.0, 17.0, True, "")
    raised = p.raised_sizes()
    assert raised is not None and raised.targets == (1, 8)  # the default 50 fits
    assert raised.note.startswith("the trace's input_tokens 1, 8 are below")
    p.input_tokens = 3  # a line without input_tokens takes --input-tokens
    assert p.raised_sizes().targets == (1, 3, 8)  # type: ignore[union-attr]
