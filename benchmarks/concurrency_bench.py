"""Concurrency efficiency of ``chimera multiagent``: N agents, each on its own test server.

Every server (a ``python -m chimera.testing`` subprocess, or a ServerThread with
``--servers thread``) has a fixed service time: a 200 ms prefill, then 50 tokens 10 ms apart,
so one call takes 690 ms and an agent's two calls 1.38 s. With independent servers the ideal
speedup is N and the efficiency 100%; what is lost is the client's own overhead (the agents'
CPU work and stream parsing on one event loop).

    python benchmarks/concurrency_bench.py                     # N = 2, 4, 8, 16; 3 runs each
    python benchmarks/concurrency_bench.py --agents 8 --runs 5 --data ../shared/corpus/banterhearts
    python benchmarks/concurrency_bench.py --json out.json

Prints, per N: speedup and efficiency (mean, std, min over the runs), the legacy speedup, the
worst slowdown, wall time together and the sum of the alone times.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chimera.agent.personas import get_persona
from chimera.app.multiagent import MultiAgentSettings, run_multiagent
from chimera.bench.scenarios import AgentPlan, ScenarioSpec
from chimera.cli.common import run_async
from chimera.testing import ServerThread, TestServerConfig
from chimera.testing.process import server_processes

MODEL = "gemma3:latest"
# 50 whitespace tokens: one call = 200 ms prefill + 49 x 10 ms = 690 ms.
ANSWER = (
    "## Executive Summary\nTwo benchmark rows show gemma3 at about 100 tokens per second "
    "with a first token near 0.2 s.\n\n## Key Findings\n- Throughput is 100.5 and 98.5 tok/s.\n"
    "- TTFT is 0.2 and 0.3 s.\n\n## Recommendations\n1. Repeat each run three times.\n"
    "2. Record warm-ups apart."
)


def process_servers(n: int, args: list[str]) -> contextlib.AbstractContextManager[list[str]]:
    return server_processes(n, ["--uvloop", *args])


@contextlib.contextmanager
def thread_servers(n: int, cfg: TestServerConfig) -> Iterator[list[str]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(ServerThread(cfg)).url for _ in range(n)]


def scenario(urls: list[str]) -> ScenarioSpec:
    personas = [get_persona("collector"), get_persona("insight")]
    agents = tuple(
        AgentPlan(
            agent_id=f"agent{i + 1}",
            label=f"Agent {i + 1}",
            persona=personas[i % 2],
            model=MODEL,
            backend="ollama",
            url=url,
        )
        for i, url in enumerate(urls)
    )
    return ScenarioSpec(name=f"bench_{len(urls)}_agents", agents=agents)


def measure(n: int, runs: int, data: Path, servers: str, out: Path) -> dict[str, Any]:
    flags = ["--models", MODEL, "--response", ANSWER, "--prefill-ms", "200"]
    flags += ["--token-interval-ms", "10"]
    cfg = TestServerConfig(models=[MODEL], responses=[ANSWER], prefill_ms=200, token_interval_ms=10)
    started = process_servers(n, flags) if servers == "process" else thread_servers(n, cfg)
    with started as urls:
        settings = MultiAgentSettings(
            paths=[data],
            scenario=scenario(urls),
            runs=runs,
            output_dir=out / f"n{n}",
            store=False,
        )
        t0 = time.perf_counter()
        outcome = run_async(run_multiagent(settings))
        took = time.perf_counter() - t0
    figs = [r.figures for r in outcome.valid_runs if r.figures is not None]
    if len(figs) != runs:
        invalid = [reason for r in outcome.records for reason in r.invalid_reasons]
        raise RuntimeError(
            f"N={n}: {outcome.failed_runs} runs failed, {outcome.invalid_runs} invalid: "
            f"{outcome.notes} {invalid}"
        )
    speedups = [f.concurrency_speedup for f in figs]
    effs = [f.efficiency_percent for f in figs]
    return {
        "agents": n,
        "runs": runs,
        "speedup_mean": statistics.fmean(speedups),
        "speedup_std": statistics.stdev(speedups) if runs > 1 else 0.0,
        "efficiency_mean": statistics.fmean(effs),
        "efficiency_min": min(effs),
        "legacy_speedup_mean": statistics.fmean(f.legacy_concurrency_speedup for f in figs),
        "worst_slowdown": max(max(f.slowdowns.values()) for f in figs),
        "wall_s_mean": statistics.fmean(f.wall_s for f in figs),
        "sequential_s_mean": statistics.fmean(f.sequential_s for f in figs),
        "session_s": took,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--agents", type=int, nargs="+", default=[2, 4, 8, 16])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--data", type=Path, help="artifacts to analyse (default: a small CSV)")
    p.add_argument("--servers", choices=["process", "thread"], default="process")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "data"
            data.mkdir()
            (data / "bench.csv").write_text(
                "model,tokens_per_s,ttft_s\ngemma3:latest,100.5,0.2\ngemma3:latest,98.5,0.3\n",
                encoding="utf-8",
            )
        print(
            f"service time 200 ms + 49 x 10 ms per call, 2 calls per agent; "
            f"{args.runs} runs per N; servers: {args.servers}; data: {data}"
        )
        print(
            f"{'N':>3} {'speedup':>16} {'efficiency %':>13} {'min eff %':>10} "
            f"{'legacy':>7} {'worst slowdown':>15} {'wall s':>7} {'alone sum s':>12}"
        )
        rows = []
        for n in args.agents:
            r = measure(n, args.runs, data, args.servers, Path(tmp) / "out")
            rows.append(r)
            print(
                f"{n:>3} {r['speedup_mean']:>8.3f} ± {r['speedup_std']:.3f} "
                f"{r['efficiency_mean']:>13.2f} {r['efficiency_min']:>10.2f} "
                f"{r['legacy_speedup_mean']:>7.3f} {r['worst_slowdown']:>15.3f} "
                f"{r['wall_s_mean']:>7.3f} {r['sequential_s_mean']:>12.3f}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
