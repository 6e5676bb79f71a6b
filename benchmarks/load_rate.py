"""Load generator honesty: how close `chimera load` holds a Poisson rate, and whether it sees
a server it overloads.

    python benchmarks/load_rate.py                  # 10 s at 50 req/s, then over-saturation
    python benchmarks/load_rate.py --full           # the issue's figure: 60 s
    python benchmarks/load_rate.py --rate 100 --seeds 3 --json out.json

The test server runs in its own process (``python -m chimera.testing``), on uvloop.

Rate: an open-loop Poisson level against a server that answers every request at once in
~40 ms (no queue). Printed per seed: the rate requested, the schedule's own rate (paced: a
level's drawn gaps are scaled so its measured requests are scheduled at the rate; unscaled, a
Poisson draw of N arrivals is off its mean by about 1/sqrt(N), 1.8% at 50 req/s over 60 s),
the rate dispatched, both ratios, how late the dispatches were, the event loop's lag and the
client's CPU. The generator's own error is dispatched against scheduled; the figure a user
sees is dispatched against requested.

Over-saturation: a server with 2 slots and ~100 ms a request (~20 req/s of capacity) gets
half and twice its capacity; the second level must be flagged over-saturated, the first not.

Generator saturation: the same fast server at 50 req/s, with the client's event loop kept
busy 20 ms of every 21 (a client whose core is taken), then at a rate one core cannot
dispatch (--flood, 3,000 req/s by default). Both must be flagged "generator saturated" with
the reason, and neither reported as the server over-saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from chimera.backends.base import EndpointSettings, create_backend
from chimera.load.metrics import LevelSummary
from chimera.load.plan import FixedPlan, execute_plan
from chimera.load.prompts import Prompts
from chimera.load.spec import LoadLevel, LoadSpec, Warmup
from chimera.options import InferenceOptions
from chimera.testing.process import server_processes

FAST = ["--prefill-ms", "20", "--token-interval-ms", "2", "--tokens", "10", "--uvloop"]
SLOTTED = ["--slots", "2", "--prefill-ms", "20", "--token-interval-ms", "5", "--tokens", "16"]


async def run_levels(
    url: str, levels: list[LoadLevel], seconds: float, seed: int, busy_ms: float = 0.0
) -> list[LevelSummary]:
    """The levels' summaries; ``busy_ms`` > 0 keeps the client's loop busy that long of every
    ``busy_ms + 1`` ms (a client that cannot keep up)."""
    spec = LoadSpec(
        levels=tuple(levels), duration_s=seconds, warmup=Warmup(seconds=1.0),
        input_tokens=16, output_tokens=16, seed=seed,
    )  # fmt: skip
    prompts = Prompts("tiny:latest", InferenceOptions(num_predict=16), input_tokens=16, nonce="b")
    async with create_backend(EndpointSettings(url=url, max_connections=4096)) as backend:
        hog = asyncio.create_task(_busy(busy_ms)) if busy_ms else None
        try:
            _, summaries = await execute_plan(backend, prompts, spec, FixedPlan(levels))
        finally:
            if hog is not None:
                hog.cancel()
    return summaries


async def _busy(ms: float) -> None:
    while True:
        until = time.perf_counter() + ms / 1000
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(0.001)


def _pct(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{100.0 * a / b:6.2f}%"


def rate_figures(s: LevelSummary) -> dict[str, Any]:
    g = s.generator
    return {
        "requested_rps": s.requested_rate_rps,
        "scheduled_rps": s.scheduled_rate_rps,
        "dispatched_rps": s.achieved_rate_rps,
        "requests": s.requests_ok + s.requests_failed,
        "failed": s.requests_failed,
        "dispatch_lag_ms_p50": g.send_lag_ms.p50,
        "dispatch_lag_ms_p99": g.send_lag_ms.p99,
        "dispatch_lag_ms_max": g.send_lag_ms.max,
        "loop_lag_ms_p99": g.loop_lag_ms.p99,
        "client_cpu_percent": g.client_cpu_percent,
        "generator_saturated": g.saturated,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=50.0, help="requests per second")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per level")
    ap.add_argument("--full", action="store_true", help="60 s per rate level (the goal's length)")
    ap.add_argument("--seeds", type=int, default=1, help="rate levels, each its own schedule")
    ap.add_argument("--saturation-seconds", type=float, default=6.0)
    ap.add_argument("--flood", type=float, default=3000.0, help="req/s no one core dispatches")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    seconds = 60.0 if args.full else args.seconds
    out: dict[str, Any] = {"rate": [], "saturation": [], "generator": []}
    # the machine's load beside the figures: a shared machine's cores are not the benchmark's
    out["load_average_before"] = os.getloadavg()
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")

    print(f"rate: Poisson {args.rate:g} req/s, {seconds:g} s a level, {args.seeds} seed(s)")
    print(" seed  requests  scheduled  dispatched  disp/req  disp/sched  lag p50/p99/max ms"
          "  loop p99  cpu")  # fmt: skip
    with server_processes(1, ["--protocol", "ollama", *FAST]) as (url,):
        for seed in range(args.seeds):
            level = LoadLevel(rate_rps=args.rate, arrival="poisson")
            (s,) = asyncio.run(run_levels(url, [level], seconds, seed))
            f = rate_figures(s)
            out["rate"].append({"seed": seed, **f})
            print(
                f" {seed:4d}  {f['requests']:8d}  {f['scheduled_rps']:9.3f}  "
                f"{f['dispatched_rps']:10.3f}  {_pct(f['dispatched_rps'], args.rate):>8}  "
                f"{_pct(f['dispatched_rps'], f['scheduled_rps']):>10}  "
                f"{f['dispatch_lag_ms_p50']:5.2f}/{f['dispatch_lag_ms_p99']:5.2f}/"
                f"{f['dispatch_lag_ms_max']:6.2f}  {f['loop_lag_ms_p99']:8.2f}  "
                f"{f['client_cpu_percent']:3.0f}%"
                + ("  GENERATOR SATURATED" if f["generator_saturated"] else "")
                + (f"  {f['failed']} failed" if f["failed"] else "")
            )

    print("\nover-saturation: 2 slots, ~100 ms a request (~20 req/s of capacity)")
    with server_processes(1, ["--protocol", "ollama", *SLOTTED]) as (url,):
        levels = [LoadLevel(rate_rps=r, arrival="poisson") for r in (10.0, 40.0)]
        for s in asyncio.run(run_levels(url, levels, args.saturation_seconds, 0)):
            row = {
                "requested_rps": s.requested_rate_rps,
                "ok_rps": s.requests_per_s,
                "ttft_ms_p50": s.ttft_ms.p50,
                "ttft_ms_p99": s.ttft_ms.p99,
                "over_saturated": s.over_saturated,
            }
            out["saturation"].append(row)
            print(
                f"  {s.requested_rate_rps:5.1f} req/s: served {s.requests_per_s or 0:5.2f} ok "
                f"req/s, TTFT p50 {s.ttft_ms.p50 or 0:7.1f} ms p99 {s.ttft_ms.p99 or 0:7.1f} ms: "
                + (f"OVER-SATURATED ({s.over_saturated})" if s.over_saturated else "steady")
            )
    print("\ngenerator saturation: is the client flagged, and never taken for the server?")
    with server_processes(1, ["--protocol", "ollama", *FAST]) as (url,):
        cases = [
            (f"{args.rate:g} req/s, client loop busy 20 ms of 21", args.rate, 20.0),
            (f"{args.flood:g} req/s, more than one core dispatches", args.flood, 0.0),
        ]
        for label, rate, busy in cases:
            level = LoadLevel(rate_rps=rate, arrival="poisson")
            (s,) = asyncio.run(run_levels(url, [level], args.saturation_seconds, 0, busy))
            g = s.generator
            out["generator"].append(
                {"case": label, **rate_figures(s), "notes": g.notes,
                 "over_saturated": s.over_saturated}
            )  # fmt: skip
            verdict = "GENERATOR SATURATED" if g.saturated else "not flagged (!)"
            print(
                f"  {label}: dispatched {s.achieved_rate_rps or 0:.1f} req/s, {verdict}"
                f" ({'; '.join(g.notes)}); server over-saturated: {s.over_saturated or 'no'}"
            )
    out["load_average_after"] = os.getloadavg()
    print(f"load average {os.getloadavg()[0]:.2f} after")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
        print(f"wrote {args.json}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
