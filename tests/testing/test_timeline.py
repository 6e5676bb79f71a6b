"""The test server's timeline (``timeline=``, ``--timeline FILE``): one JSON line per generation,
its times on the clock a client's ``perf_counter_ns`` reads (CLOCK_MONOTONIC), in order.

No durations are asserted beyond what the server computes itself (the due time is the
arrival plus the prefill); every other check is an order of events on one clock.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path
from time import perf_counter_ns

import httpx
import orjson

from chimera.testing import TestServer
from chimera.testing.__main__ import build_parser, config_from_args
from chimera.testing.timeline import tag_of

FIELDS = {"tag", "stream", "received_ns", "due_ns", "woke_ns", "first_write_ns",
          "last_write_ns", "tokens"}  # fmt: skip
PREFILL_MS = 20


def _chat(tag: str, stream: bool) -> dict[str, object]:
    content = f"{tag}\nsome words after the tag line"
    return {"model": "tiny", "messages": [{"role": "user", "content": content}], "stream": stream}


async def test_each_generation_is_one_line_with_its_times_in_order(tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    sent: dict[str, tuple[int, int]] = {}  # tag -> client's send and end, perf_counter_ns
    server = TestServer(timeline=str(path), prefill_ms=PREFILL_MS, token_interval_ms=1,
                        default_tokens=3)  # fmt: skip
    async with server as srv, httpx.AsyncClient(base_url=srv.url) as http:

        async def one(tag: str, stream: bool) -> None:
            t0 = perf_counter_ns()
            r = await http.post("/api/chat", json=_chat(tag, stream))
            r.raise_for_status()
            sent[tag] = (t0, perf_counter_ns())

        await asyncio.gather(one("[chimera t q0]", True), one("[chimera t q1]", True))
        await one("[chimera t q2]", False)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(e["tag"] for e in lines) == ["[chimera t q0]", "[chimera t q1]", "[chimera t q2]"]
    for e in lines:
        assert set(e) == FIELDS
        assert e["stream"] is (e["tag"] != "[chimera t q2]")
        assert e["tokens"] == 3
        t0, t1 = sent[e["tag"]]
        # one clock for both processes' stamps: the client's send, then the server's events,
        # then the client's end of the response
        assert t0 < e["received_ns"] < e["first_write_ns"] <= e["last_write_ns"] < t1
        assert e["received_ns"] < e["woke_ns"] <= e["first_write_ns"]
        # the due time is the server's arithmetic (arrival + prefill), not a measurement
        assert abs(e["due_ns"] - (e["received_ns"] + PREFILL_MS * 1_000_000)) < 1_000


async def test_no_timeline_unless_asked(tmp_path: Path) -> None:
    async with TestServer(fast=True) as srv, httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.post("/api/chat", json=_chat("x", True))
        assert r.status_code == 200
    assert srv._engine.timeline is None  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []


def test_tag_is_the_first_line_of_the_last_text() -> None:
    assert tag_of(["system words", "  [chimera a q7]\nrest"]) == "[chimera a q7]"
    assert tag_of([]) == ""
    assert len(tag_of(["x" * 500])) == 120


def test_the_command_line_writes_it_while_idle_and_at_exit(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    assert config_from_args(build_parser().parse_args(["--timeline", str(path)])).timeline == str(
        path
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "chimera.testing", "--port", "0", "--fast", "--uvloop",
         "--timeline", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        with httpx.Client(base_url=url) as http:
            for k in range(2):
                http.post("/api/chat", json=_chat(f"[chimera cli q{k}]", True)).raise_for_status()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    entries = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [e["tag"] for e in entries] == ["[chimera cli q0]", "[chimera cli q1]"]
    assert entries[0]["last_write_ns"] < entries[1]["received_ns"]
