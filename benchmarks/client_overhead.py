"""Client overhead: how many tokens/s Chimera's client consumes, and how exact its timings are.

The client runs pinned to one core and the test server (a separate process) to the other.

    python benchmarks/client_overhead.py                 # both parts, all concurrencies
    python benchmarks/client_overhead.py --seconds 5 --json out.json

Capacity: a fast-mode server streams with no delay; for each concurrency, C workers issue
requests back to back for a fixed time. Reported: tokens/s and requests/s consumed, the
concurrency actually sustained (time-weighted mean of requests in flight) and lost requests.
Accuracy: 64 concurrent streams with a 200 ms first-token delay and 10 ms between tokens;
reported: measured ttft_ms p50/p99 and itl_ms_p50 against the injected values.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from chimera.backends.base import EndpointSettings, GenerationRequest, TextChunk, generate
from chimera.backends.ollama import OllamaBackend
from chimera.errors import ChimeraError
from chimera.options import InferenceOptions


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: list[str], core: int | None) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "chimera.testing",
        "--protocol",
        "ollama",
        "--port",
        str(port),
        "--uvloop",
        *args,
    ]
    if core is not None:
        cmd = ["taskset", "-c", str(core), *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening" not in line:
        proc.kill()
        raise SystemExit(f"test server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}"


@dataclass
class Capacity:
    concurrency: int
    seconds: float
    requests: int
    lost: int
    tokens: int
    tokens_per_s: float
    requests_per_s: float
    sustained_concurrency: float


async def capacity(url: str, concurrency: int, seconds: float, tokens: int) -> Capacity:
    settings = EndpointSettings(kind="ollama", url=url, max_connections=max(concurrency, 1))
    request = GenerationRequest(
        model="tiny:latest", prompt="x", options=InferenceOptions(num_predict=tokens)
    )
    done = lost = n_tokens = 0
    in_flight = 0
    area = 0.0  # integral of in-flight requests over time
    last = time.perf_counter()

    stop_at = float("inf")

    def tick(delta: int) -> None:
        # in-flight requests integrated over the measurement window only (not the drain tail)
        nonlocal in_flight, area, last
        now = min(time.perf_counter(), stop_at)
        area += in_flight * max(0.0, now - last)
        last = now
        in_flight += delta

    async with OllamaBackend(settings) as backend:
        # one overlapping round of streams opens the pool's connections before the clock runs
        await asyncio.gather(*(generate(backend, request) for _ in range(concurrency)))
        start = time.perf_counter()
        last = start
        stop_at = start + seconds

        async def worker() -> None:
            nonlocal done, lost, n_tokens
            while time.perf_counter() < stop_at:
                tick(+1)
                try:
                    async for event in backend.stream(request):
                        if not isinstance(event, TextChunk):
                            n_tokens += event.metrics.output_tokens or 0
                    done += 1
                except ChimeraError:
                    lost += 1
                tick(-1)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        tick(0)
        wall = time.perf_counter() - start
    return Capacity(
        concurrency,
        round(wall, 3),
        done,
        lost,
        n_tokens,
        round(n_tokens / wall),
        round(done / wall, 1),
        round(area / seconds, 2),
    )


async def accuracy(url: str, streams: int, tokens: int, rounds: int = 3) -> dict[str, float]:
    settings = EndpointSettings(kind="ollama", url=url, max_connections=streams)
    request = GenerationRequest(
        model="tiny:latest", prompt="x", options=InferenceOptions(num_predict=tokens)
    )
    async with OllamaBackend(settings) as backend:
        await asyncio.gather(*(backend.load("tiny:latest") for _ in range(streams)))

        async def one() -> tuple[float, list[float]]:
            async for event in backend.stream(request):
                if not isinstance(event, TextChunk):
                    m = event.metrics
                    assert m.ttft_ms is not None and m.itl_ms_p50 is not None
                    return m.ttft_ms, [m.itl_ms_p50]
            raise AssertionError("no result")

        await asyncio.gather(*(one() for _ in range(streams)))  # warm-up round, discarded
        results = []
        for _ in range(rounds):
            results += await asyncio.gather(*(one() for _ in range(streams)))
    ttft = np.array([r[0] for r in results])
    itl = np.array([g for r in results for g in r[1]])
    return {
        "streams": streams,
        "ttft_ms_p50": round(float(np.percentile(ttft, 50)), 3),
        "ttft_ms_p99": round(float(np.percentile(ttft, 99)), 3),
        "itl_ms_p50": round(float(np.percentile(itl, 50)), 3),
        "ttft_error_ms_p50": round(float(np.percentile(ttft, 50)) - 200, 3),
        "ttft_error_ms_p99": round(float(np.percentile(ttft, 99)) - 200, 3),
        "itl_error_ms_p50": round(float(np.percentile(itl, 50)) - 10, 3),
    }


def run(coro):  # type: ignore[no-untyped-def]
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", default="1,16,64,256")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--tokens", type=int, default=256, help="tokens per request (capacity)")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    pin = len(os.sched_getaffinity(0)) >= 2 and bool(
        subprocess.run(["which", "taskset"], capture_output=True).returncode == 0
    )
    if pin:
        os.sched_setaffinity(0, {0})
    figures: dict[str, object] = {"pinned": pin}

    proc, url = start_server(["--fast", "--tokens", str(args.tokens)], 1 if pin else None)
    try:
        rows = [
            run(capacity(url, int(c), args.seconds, args.tokens))
            for c in args.concurrency.split(",")
        ]
    finally:
        proc.terminate()
        proc.wait()
    figures["capacity"] = [asdict(r) for r in rows]
    print(
        f"Capacity (client on 1 core{', server on the other' if pin else ''}, "
        f"{args.tokens} tokens/request, {args.seconds:g} s each)"
    )
    print(f"{'conc':>5} {'tokens/s':>10} {'req/s':>8} {'sustained':>9} {'requests':>8} {'lost':>5}")
    for r in rows:
        print(
            f"{r.concurrency:>5} {r.tokens_per_s:>10,} {r.requests_per_s:>8} "
            f"{r.sustained_concurrency:>9} {r.requests:>8} {r.lost:>5}"
        )

    if not args.skip_accuracy:
        proc, url = start_server(
            ["--prefill-ms", "200", "--token-interval-ms", "10", "--tokens", "50"],
            1 if pin else None,
        )
        try:
            acc = run(accuracy(url, 64, 50))
        finally:
            proc.terminate()
            proc.wait()
        figures["accuracy"] = acc
        print("\nAccuracy under load (64 streams, 200 ms first-token delay, 10 ms between tokens)")
        print(
            f"  ttft_ms p50 {acc['ttft_ms_p50']} (error {acc['ttft_error_ms_p50']:+}), "
            f"p99 {acc['ttft_ms_p99']} (error {acc['ttft_error_ms_p99']:+}); "
            f"itl_ms_p50 {acc['itl_ms_p50']} (error {acc['itl_error_ms_p50']:+})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
