"""Scale-out on Ray: what Ray costs, how load throughput grows with Ray workers, and how a
sweep's wall time shrinks with endpoints.

    python benchmarks/scale.py                     # all three parts
    python benchmarks/scale.py --seconds 3 --workers 1,2,4 --json scale.json

1. Ray's own overhead: starting a local instance, a task's round trip (one at a time and
   many at once), starting the load actors, and a sweep point's dispatch (a 1-endpoint
   sweep on Ray against the same sweep in this process, over a server that answers at once).
2. Aggregate client throughput of ``chimera load --executor ray --workers N`` against a fast
   test server (no delays, a separate process): output tokens/s and requests/s for each N,
   with one in-process generator as the reference. On a machine with few cores the server,
   the driver and the actors share them: where the figure stops growing, cores ran out.
3. Sweep wall time over N endpoints (modelled servers: each call waits on the server, not on
   a core) against one endpoint; the ideal is N times faster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ray

from chimera.app.sweep import run_sweep
from chimera.backends.base import EndpointSettings, create_backend
from chimera.bench.grid import Grid
from chimera.bench.sweep import SweepSettings
from chimera.executor import Endpoint, ExecutorSettings
from chimera.executor.load import RayGenerators
from chimera.load.metrics import summarize
from chimera.load.prompts import Prompts
from chimera.load.runner import LevelRunner
from chimera.load.spec import LoadLevel, LoadSpec, Warmup
from chimera.options import InferenceOptions
from chimera.testing import ServerThread

OUTPUT_TOKENS = 64


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_server() -> tuple[subprocess.Popen[bytes], str]:
    """The fast-mode Ollama test server in its own process (it needs a core of its own)."""
    port = free_port()
    cmd = [sys.executable, "-m", "chimera.testing", "--fast", "--port", str(port)]
    cmd += ["--tokens", str(OUTPUT_TOKENS), "--uvloop"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the fast test server did not start")


def ray_overhead(cpus: int) -> dict[str, float]:
    t = time.perf_counter()
    ray.init(
        address="local", include_dashboard=False, num_cpus=cpus, _node_ip_address="127.0.0.1",
        _temp_dir=tempfile.mkdtemp(prefix="crb", dir="/tmp"), log_to_driver=False,
        configure_logging=False,
    )  # fmt: skip
    out = {"ray_start_s": time.perf_counter() - t}

    @ray.remote(num_cpus=0.25)
    def noop(x: int) -> int:
        return x

    t = time.perf_counter()
    ray.get(noop.remote(0))
    out["first_task_s"] = time.perf_counter() - t
    n = 200
    t = time.perf_counter()
    for i in range(n):
        ray.get(noop.remote(i))
    out["task_round_trip_ms"] = (time.perf_counter() - t) / n * 1000
    t = time.perf_counter()
    ray.get([noop.remote(i) for i in range(n)])
    out["tasks_per_s_batched"] = n / (time.perf_counter() - t)
    return out


def load_spec(seconds: float, concurrency: int) -> LoadSpec:
    return LoadSpec(
        levels=(LoadLevel(concurrency=concurrency),), duration_s=seconds,
        warmup=Warmup(seconds=0.5), input_tokens=16, output_tokens=OUTPUT_TOKENS,
    )  # fmt: skip


def prompts(spec: LoadSpec) -> Prompts:
    options = InferenceOptions(num_predict=spec.output_tokens)
    return Prompts("tiny:latest", options, input_tokens=spec.input_tokens, nonce="scale")


def figures(run: Any) -> dict[str, float | None]:
    s = summarize(run)
    return {
        "output_tokens_per_s": s.output_tokens_per_s,
        "requests_per_s": s.requests_per_s,
        "requests_ok": s.requests_ok,
        "failed": s.requests_failed,
        "ttft_ms_p50": s.ttft_ms.p50,
    }


async def load_part(url: str, seconds: float, workers: list[int], concurrency: int) -> list[dict]:
    endpoint = EndpointSettings(url=url, max_connections=1024)
    spec = load_spec(seconds, concurrency)
    rows: list[dict[str, Any]] = []
    async with create_backend(endpoint) as backend:
        run = await LevelRunner(backend, prompts(spec), spec, spec.levels[0]).execute()
    rows.append({"workers": "1 in-process (no Ray)", **figures(run)})
    for n in workers:
        t = time.perf_counter()
        gens = RayGenerators(ray, n)
        await gens.ready()
        started = time.perf_counter() - t
        try:
            run, _ = await gens.run_level(endpoint, prompts(spec), spec, spec.levels[0], 0, 0)
        finally:
            gens.close()
        rows.append({"workers": f"{n} Ray actors", "actors_start_s": started, **figures(run)})
    return rows


def sweep_settings(out: Path, urls: list[str], executor: str) -> SweepSettings:
    return SweepSettings.model_validate(
        {
            "grid": Grid.parse([("num_ctx", "256,512,1024,2048"), ("temperature", "0.5,0.7")]),
            "options": InferenceOptions(num_predict=32),
            "runs": 2,
            "warmup": 1,
            "model": "tiny:latest",
            "endpoint": EndpointSettings(kind="ollama", url=urls[0] if len(urls) == 1 else None),
            "endpoints": [Endpoint(url=u) for u in urls] if len(urls) > 1 else [],
            "executor": ExecutorSettings.model_validate({"kind": executor}),
            "output_dir": out,
            "store": False,
        }
    )


async def timed_sweep(out: Path, urls: list[str], executor: str) -> float:
    t = time.perf_counter()
    result = await run_sweep(sweep_settings(out, urls, executor))
    assert result.status == "ok" and len(result.rows) == 16, result.status
    return time.perf_counter() - t


async def sweep_part(tmp: Path, endpoints: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    timing = {"prefill_ms": 20, "token_interval_ms": 5, "default_tokens": 32}
    servers = [ServerThread(**timing).start() for _ in range(max(endpoints))]
    try:
        # cold: the first sweep on a fresh instance starts a worker process per endpoint
        out["cold_wall_s"] = await timed_sweep(tmp / "cold", [s.url for s in servers], "ray")
        # then each count in turn, three rounds, the best kept: Ray starts workers lazily and
        # retires idle ones, so the first rounds still pay for some process starts
        tries: dict[int, list[float]] = {n: [] for n in endpoints}
        for k in range(3):
            for n in endpoints:
                urls = [s.url for s in servers[:n]]
                tries[n].append(await timed_sweep(tmp / f"s{n}-{k}", urls, "ray"))
        out["tries_s"] = tries
        walls = {n: min(t) for n, t in tries.items()}
        out["wall_s"] = walls
        out["speedup"] = {n: walls[endpoints[0]] / w for n, w in walls.items()}
    finally:
        for s in servers:
            s.stop()
    # dispatch: the same 8 points on an instant server, in this process and as Ray tasks
    with ServerThread(fast=True, default_tokens=32) as fast:
        local = await timed_sweep(tmp / "dl", [fast.url], "local")
        remote = await timed_sweep(tmp / "dr", [fast.url], "ray")
    out["dispatch_local_s"], out["dispatch_ray_s"] = local, remote
    out["per_point_dispatch_ms"] = (remote - local) / 8 * 1000
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="each load level's duration")
    parser.add_argument("--workers", default="1,2,4", help="Ray worker counts to measure")
    parser.add_argument("--concurrency", type=int, default=32, help="streams, split over workers")
    parser.add_argument("--endpoints", default="1,2,4", help="sweep endpoint counts")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    workers = [int(x) for x in args.workers.split(",")]
    endpoints = [int(x) for x in args.endpoints.split(",")]
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores; Ray started here with {max(cores, *workers)} CPUs")
    over = ray_overhead(max(cores, *workers))
    print(
        f"Ray start-up {over['ray_start_s']:.2f} s; first task {over['first_task_s'] * 1000:.0f} "
        f"ms; a task's round trip {over['task_round_trip_ms']:.2f} ms one at a time, "
        f"{over['tasks_per_s_batched']:,.0f} tasks/s at once"
    )
    proc, url = fast_server()
    try:
        rows = await load_part(url, args.seconds, workers, args.concurrency)
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"\nload, {args.concurrency} streams against a fast server ({OUTPUT_TOKENS} tokens each):"
    )
    base = rows[1]["output_tokens_per_s"] or 1.0
    for r in rows:
        ratio = (r["output_tokens_per_s"] or 0.0) / base
        start = f", actors started in {r['actors_start_s']:.2f} s" if "actors_start_s" in r else ""
        print(
            f"  {r['workers']:>22}: {r['output_tokens_per_s'] or 0:>10,.0f} output tok/s, "
            f"{r['requests_per_s'] or 0:>7,.0f} req/s, {ratio:.2f}x one actor, "
            f"{r['failed']} failed{start}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        sweep = await sweep_part(Path(tmp), endpoints)
    print(
        f"\nsweep point dispatch: 8 points x (1 warm-up + 2 runs) on an instant server took "
        f"{sweep['dispatch_local_s']:.2f} s here and {sweep['dispatch_ray_s']:.2f} s on Ray: "
        f"{sweep['per_point_dispatch_ms']:.0f} ms a point"
    )
    print(
        f"sweep wall time, 8 points x (1 warm-up + 2 runs), ~180 ms a call, on Ray "
        f"(first sweep, workers starting, {max(endpoints)} endpoints: {sweep['cold_wall_s']:.2f} s;"
        " then the best of three rounds):"
    )
    for n, wall in sweep["wall_s"].items():
        each = ", ".join(f"{t:.2f}" for t in sweep["tries_s"][n])
        print(
            f"  {n} endpoint(s): {wall:6.2f} s, {sweep['speedup'][n]:.2f}x (ideal {n}x; "
            f"rounds {each} s)"
        )
    ray.shutdown()
    if args.json:
        doc = {"cores": cores, "ray": over, "load": rows, "sweep": sweep}
        args.json.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
