"""The llama.cpp engine behind both protocols, on a tiny random-weight model (about 1 MB).

Its text is noise, but every token is real and printable, and the timings are llama.cpp's.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from chimera.models import write_tiny_gguf
from chimera.testing import ServerThread, TestServer, TestServerConfig
from chimera.testing.gguf_card import read_header

if TYPE_CHECKING:
    from conftest import Clients

pytest.importorskip("llama_cpp")

Start = Callable[..., Awaitable[TestServer]]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("engine") / "t.gguf")


async def _ollama_stream(http: httpx.AsyncClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Stream /api/generate (or /api/chat with messages); each line with its arrival time."""
    path = "/api/chat" if "messages" in body else "/api/generate"
    lines = []
    async with http.stream("POST", path, json=body) as r:
        assert r.status_code == 200, await r.aread()
        async for line in r.aiter_lines():
            if line:
                lines.append({**orjson.loads(line), "_at": time.perf_counter()})
    return lines


async def test_ollama_streams_real_tokens_with_real_timings(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(engine="llamacpp", model=str(tiny))
    http = clients.http(srv, timeout=30)
    body = {"model": "t", "prompt": "tell me", "options": {"num_predict": 16, "seed": 7}}
    lines = await _ollama_stream(http, body)
    tokens, final = lines[:-1], lines[-1]
    assert len(tokens) == 16 and all(t["response"] and not t["done"] for t in tokens)
    assert final["done"] and final["done_reason"] == "length" and final["model"] == "t"
    assert final["eval_count"] == 16
    assert final["prompt_eval_count"] > 2  # the prompt, laid out by the chat template
    assert final["load_duration"] > 0  # the slot's first request reports its load
    for key in ("prompt_eval_duration", "eval_duration"):
        assert final[key] > 0
    parts = ("load_duration", "prompt_eval_duration", "eval_duration")
    assert final["total_duration"] >= sum(final[k] for k in parts)
    assert len(final["context"]) == final["prompt_eval_count"] + 16


async def test_the_same_prompt_again_is_served_from_the_slots_cache(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(engine="llamacpp", model=str(tiny))
    client = clients.ollama(srv)
    messages = [{"role": "user", "content": "the same question, asked twice over"}]
    options = {"num_predict": 8}
    cold = await client.chat(model="t", messages=messages, options=options)
    warm = await client.chat(model="t", messages=messages, options=options)
    assert cold.prompt_eval_count is not None and warm.prompt_eval_count is not None
    assert warm.prompt_eval_count < cold.prompt_eval_count
    assert warm.prompt_eval_count <= 1  # llama-cpp-python re-evaluates at most the last token
    assert (warm.load_duration, warm.eval_count) == (0, 8)
    other = await client.chat(model="t", messages=[{"role": "user", "content": "zzz"}])
    assert other.prompt_eval_count is not None and other.prompt_eval_count > 1


async def test_two_slots_generate_at_the_same_time(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(engine="llamacpp", model=str(tiny), parallel=2)
    http = clients.http(srv, timeout=60)
    bodies = [
        {"model": "t", "prompt": p, "options": {"num_predict": 300}} for p in ("first", "second")
    ]
    a, b = await asyncio.gather(*(_ollama_stream(http, body) for body in bodies))
    # each stream's tokens arrive while the other's are still coming
    assert a[0]["_at"] < b[-1]["_at"] and b[0]["_at"] < a[-1]["_at"]
    assert srv.max_in_flight == 2
    assert a[-1]["eval_count"] == b[-1]["eval_count"] == 300


async def test_beyond_the_slots_requests_wait_their_turn(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(engine="llamacpp", model=str(tiny), parallel=1)
    http = clients.http(srv, timeout=60)
    body = {"model": "t", "prompt": "x", "stream": False, "options": {"num_predict": 100}}
    replies = await asyncio.gather(*(http.post("/api/generate", json=body) for _ in "ab"))
    answers = [r.json() for r in replies]
    assert srv.max_in_flight == 1
    assert sorted(a["eval_count"] for a in answers) == [100, 100]
    waited = max(answers, key=lambda a: a["total_duration"])
    assert (
        waited["total_duration"]
        > waited["eval_duration"] + min(a["eval_duration"] for a in answers) * 0.5
    )  # its total includes the wait for the other's generation


async def test_metadata_endpoints_describe_the_real_file(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(engine="llamacpp", model=str(tiny), ctx=1024, version="9.9.9")
    http = clients.http(srv)
    tags = (await http.get("/api/tags")).json()["models"]
    assert [m["name"] for m in tags] == ["t:latest"]
    assert tags[0]["size"] == tiny.stat().st_size
    assert tags[0]["details"]["quantization_level"] == "F32"
    (ps,) = (await http.get("/api/ps")).json()["models"]
    assert (ps["name"], ps["context_length"], ps["size_vram"]) == ("t:latest", 1024, 0)
    assert ps["expires_at"].startswith("2318")  # loaded for the server's lifetime
    show = await clients.ollama(srv).show("t")
    assert show.details is not None and show.details.family == "llama"
    info = show.modelinfo or {}
    assert info["general.parameter_count"] == read_header(tiny).parameter_count
    assert info["llama.context_length"] == 2048 and info["tokenizer.ggml.tokens"] is None
    assert (await http.get("/api/version")).json() == {"version": "9.9.9"}
    missing = await http.post("/api/generate", json={"model": "nope", "prompt": "x"})
    assert missing.status_code == 404


async def test_openai_streams_with_usage_and_llama_server_timings(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(
        protocol="openai", engine="llamacpp", model=str(tiny), llamacpp_timings=True
    )
    http = clients.http(srv, timeout=30)
    assert (await http.get("/v1/models")).json()["data"][0]["id"] == "t"
    body = {
        "model": "t",
        "messages": [{"role": "user", "content": "a question"}],
        "stream": True,
        "max_tokens": 12,
        "stream_options": {"include_usage": True},
    }
    runs = []
    for _ in range(2):
        async with http.stream("POST", "/v1/chat/completions", json=body) as r:
            events = [line.removeprefix("data: ") async for line in r.aiter_lines() if line]
        runs.append(events)
    for events in runs:
        assert events[-1] == "[DONE]"
        chunks = [orjson.loads(e) for e in events[:-1]]
        assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        texts = [c["choices"][0]["delta"].get("content") for c in chunks[1:-2]]
        assert len(texts) == 12 and all(texts)
        last, usage = chunks[-2], chunks[-1]["usage"]
        assert last["choices"][0]["finish_reason"] == "length"
        timings = last["timings"]
        assert usage["completion_tokens"] == timings["predicted_n"] == 12
        assert usage["prompt_tokens"] == timings["prompt_n"] + timings["cache_n"]
        assert timings["predicted_ms"] > 0
    cold, warm = (orjson.loads(events[-3])["timings"] for events in runs)
    assert cold["cache_n"] == 0 and warm["cache_n"] >= cold["prompt_n"] - 1


async def test_openai_completions_without_streaming(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(protocol="openai", engine="llamacpp", model=str(tiny))
    client = clients.openai(srv)
    reply = await client.completions.create(model="t", prompt="raw text", max_tokens=5)
    assert reply.choices[0].finish_reason == "length" and reply.choices[0].text
    assert reply.usage is not None and reply.usage.completion_tokens == 5


async def test_a_client_that_leaves_stops_the_generation(
    tmp_path: Path, chimera_server: Start, clients: Clients
) -> None:
    # a slower model: the whole context would take several seconds to fill
    path = write_tiny_gguf(tmp_path / "slow.gguf", hidden=256, layers=4)
    srv = await chimera_server(engine="llamacpp", model=str(path), parallel=1)
    http = clients.http(srv, timeout=30)
    got = 0
    async with http.stream("POST", "/api/generate", json={"model": "slow", "prompt": "go"}) as r:
        async for line in r.aiter_lines():
            got += bool(line)
            if got == 3:
                break  # leaving the block closes the connection mid-stream
    body = {"model": "slow", "prompt": "next", "stream": False, "options": {"num_predict": 2}}
    answer = (await clients.http(srv, timeout=30).post("/api/generate", json=body)).json()
    # it waited for the slot only until the abandoned generation stopped at its next token
    assert answer["eval_count"] == 2
    assert answer["total_duration"] - answer["load_duration"] < 1_000_000_000
    assert srv.in_flight == 0


async def test_stream_faults_and_empty_concurrent_with_the_engine(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(
        engine="llamacpp", model=str(tiny), fault="error_line", fault_after_tokens=2
    )
    body = {"model": "t", "prompt": "x"}
    async with clients.http(srv).stream("POST", "/api/generate", json=body) as r:
        lines = [orjson.loads(line) async for line in r.aiter_lines() if line]
    assert [bool(x.get("response")) for x in lines[:2]] == [True, True]
    assert "injected fault (error_line) after 2 tokens" in lines[2]["error"]
    assert len(lines) == 3
    srv2 = await chimera_server(
        protocol="openai", engine="llamacpp", model=str(tiny), fault="empty_concurrent"
    )
    http = clients.http(srv2, timeout=30)
    long = {"model": "t", "prompt": "x", "max_tokens": 1500, "stream": True}
    first = asyncio.create_task(http.post("/v1/completions", json=long))
    for _ in range(1000):  # until the first is generating
        if srv2.in_flight:
            break
        await asyncio.sleep(0.005)
    empty = await http.post("/v1/completions", json={"model": "t", "prompt": "y", "stream": True})
    assert empty.status_code == 200 and empty.text == "data: [DONE]\n\n"
    assert (await first).text.count("data: ") == 1500 + 2  # tokens, the final chunk, [DONE]


async def test_requests_the_engine_cannot_serve_get_400(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(engine="llamacpp", model=str(tiny), ctx=64)
    http = clients.http(srv)
    long = await http.post("/api/generate", json={"model": "t", "prompt": "word " * 200})
    assert long.status_code == 400 and "context holds 64" in long.json()["error"]
    tool = {"model": "t", "messages": [{"role": "tool", "content": "x"}]}
    bad = await http.post("/api/chat", json=tool)
    assert bad.status_code == 400 and "'tool'" in bad.json()["error"]


async def test_num_ctx_reloads_the_slot_it_lands_on(
    tiny: Path, chimera_server: Start, clients: Clients
) -> None:
    srv = await chimera_server(engine="llamacpp", model=str(tiny))
    client = clients.ollama(srv)
    await client.generate(model="t", prompt="x", options={"num_predict": 2})
    bigger = await client.generate(
        model="t", prompt="x", options={"num_predict": 2, "num_ctx": 512}
    )
    same = await client.generate(model="t", prompt="x", options={"num_predict": 2, "num_ctx": 512})
    assert bigger.load_duration and bigger.load_duration > 0  # reloaded, as Ollama does
    assert same.load_duration == 0
    (ps,) = (await clients.http(srv).get("/api/ps")).json()["models"]
    assert ps["context_length"] == 512


def test_server_thread_and_settings(tiny: Path) -> None:
    with ServerThread(engine="llamacpp", model=str(tiny), models=["mine:1b"]) as srv:
        body = {"model": "mine:1b", "prompt": "x", "stream": False, "options": {"num_predict": 3}}
        r = httpx.post(srv.url + "/api/generate", json=body, timeout=30)
        assert r.json()["eval_count"] == 3
        assert srv.loaded_models == ["mine:1b"]
    with pytest.raises(ValueError, match="needs model"):
        TestServerConfig(engine="llamacpp")
    with pytest.raises(ValueError, match="for engine 'llamacpp'"):
        TestServerConfig(model="smollm2")


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "chimera.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_command_line_serves_a_real_model(tiny: Path) -> None:
    proc = _serve("--protocol", "openai", "--engine", "llamacpp", "--model", str(tiny))
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), proc.stderr.read()
        url = line.strip().removeprefix("listening on ")
        assert httpx.get(url + "/v1/models").json()["data"][0]["id"] == "t"
        body = {"model": "t", "prompt": "x", "max_tokens": 4}
        reply = httpx.post(url + "/v1/completions", json=body, timeout=30).json()
        assert reply["usage"]["completion_tokens"] == 4
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "llamacpp"], "--engine llamacpp needs --model"),
        (["--engine", "llamacpp", "--model", "no-such-model"], "no-such-model"),
    ],
)
def test_the_command_line_says_what_is_wrong(args: list[str], message: str) -> None:
    proc = _serve(*args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.real_server
async def test_the_official_client_chats_with_smollm2(clients: Clients) -> None:
    async with TestServer(protocol="ollama", engine="llamacpp", model="smollm2") as srv:
        client = clients.ollama(srv)
        messages = [{"role": "user", "content": "Name three colours."}]
        parts = [
            part
            async for part in await client.chat(
                model="smollm2",
                messages=messages,
                stream=True,
                options={"num_predict": 48, "temperature": 0, "seed": 1},
            )
        ]
    final = parts[-1]
    text = "".join(p.message.content for p in parts).lower()
    assert any(colour in text for colour in ("red", "blue", "green", "yellow"))  # real words
    assert final.done and final.done_reason in ("stop", "length")
    assert final.eval_count is not None and 0 < final.eval_count <= 48
    assert len(parts) - 1 <= final.eval_count  # one chunk per token that completed text
    assert final.prompt_eval_count is not None and final.prompt_eval_count > 10  # the template
    assert final.load_duration and final.prompt_eval_duration and final.eval_duration
    assert final.eval_count / final.eval_duration * 1e9 > 5  # tokens/s: a real pace
