"""Client overhead: how many tokens/s Chimera's client consumes, and how exact its timings are.

The client runs pinned to one core and the test server (a separate process) to the other.

    python benchmarks/client_overhead.py                 # both parts, all concurrencies
    python benchmarks/client_overhead.py --seconds 5 --json out.json

Capacity: a fast-mode server streams with no delay; for each concurrency, C workers issue
requests back to back for a fixed time. Reported: tokens/s and requests/s consumed, the
concurrency actually sustained (time-weighted mean of requests in flight) and lost requests.
Accuracy: 64 concurrent streams with a 200 ms first-token delay and 10 ms between tokens;
reported: measured ttft_ms p50/p99 and itl_ms_p50 against the injected values. The server
logs its own times (``--timeline``: arrival, first write, on CLOCK_MONOTONIC like the
client's perf_counter_ns), the benchmark notes when the client's write of each request's
body returned (a tap on StampedStream.write, joined on the prompt's nonce line), and every
request's TTFT error is split into its four parts, which add up to it exactly:

    client send   client's body written - client's start (httpcore send_request_headers)
    server read   server's arrival stamp - client's body written
    server late   server's first write - (arrival + 200 ms)
    wire+client   client's stamp (transport data_received) - server's first write

On loopback a write is in the peer's socket buffer when the write call returns, so
"server read" is the server's event loop getting round to the bytes, and "wire+client"
the client's. The client's own error is client send + wire+client: what Chimera's timing
adds to what the server did.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import numpy as np
import orjson

from chimera.backends.base import EndpointSettings
from chimera.backends.ollama import OllamaBackend, request_body
from chimera.backends.wire import StampedStream
from chimera.load.metrics import summarize
from chimera.load.prompts import Prompts
from chimera.load.records import LevelRun
from chimera.load.runner import LevelRunner
from chimera.load.spec import LoadLevel, LoadSpec, Warmup
from chimera.options import InferenceOptions
from chimera.testing.timeline import tag_of

INJECTED_TTFT_MS = 200
INJECTED_ITL_MS = 10


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
    client: str  # "plain" (httpx + orjson, nothing recorded) or "chimera" (chimera load's path)
    concurrency: int
    seconds: float
    requests: int
    lost: int
    tokens: int
    tokens_per_s: float
    tokens_per_cpu_s: float  # tokens per second of the client's own CPU time
    cpu_percent: float
    sustained_concurrency: float


class Window:
    """A capacity window: requests started until ``seconds`` have passed, then drained; the
    in-flight count is integrated over the window only (not the drain tail)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = self.last = time.perf_counter()
        self.stop_at = self.start + seconds
        self.cpu0 = time.thread_time()
        self.in_flight = 0
        self.area = 0.0

    def open(self) -> bool:
        return time.perf_counter() < self.stop_at

    def tick(self, delta: int) -> None:
        now = min(time.perf_counter(), self.stop_at)
        self.area += self.in_flight * max(0.0, now - self.last)
        self.last = now
        self.in_flight += delta

    def result(self, client: str, c: int, done: int, lost: int, tokens: int) -> Capacity:
        self.tick(0)
        wall = time.perf_counter() - self.start
        cpu = time.thread_time() - self.cpu0
        return Capacity(
            client, c, round(wall, 3), done, lost, tokens, round(tokens / wall),
            round(tokens / cpu) if cpu else 0, round(100 * cpu / wall),
            round(self.area / self.seconds, 2),
        )  # fmt: skip


def load_prompts(tokens: int, nonce: str = "c") -> Prompts:
    return Prompts(
        "tiny:latest", InferenceOptions(num_predict=tokens), input_tokens=16, nonce=nonce
    )


async def plain_capacity(url: str, concurrency: int, seconds: float, tokens: int) -> Capacity:
    """The reference: the loop anyone would write with httpx, uvloop and orjson. The same
    requests as chimera's; per stream it reads raw bytes, splits lines, parses each and stamps
    the first token's read; it keeps no other record."""
    prompts = load_prompts(tokens)
    bodies = [orjson.dumps(request_body(prompts.request(i))) for i in range(4096)]
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    done = lost = n_tokens = 0
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as client:

        async def one(k: int) -> None:
            nonlocal done, lost, n_tokens
            try:
                async with client.stream(
                    "POST", "/api/chat", content=bodies[k % 4096], headers=headers
                ) as r:
                    sent = time.perf_counter_ns()
                    first = 0
                    buf = b""
                    async for data in r.aiter_raw():
                        if not first:
                            first = time.perf_counter_ns() - sent
                        buf += data
                        *lines, buf = buf.split(b"\n")
                        for line in lines:
                            if line:
                                obj = orjson.loads(line)
                                if obj["done"]:
                                    n_tokens += obj["eval_count"]
                done += 1
            except httpx.HTTPError:
                lost += 1

        await asyncio.gather(*(one(k) for k in range(concurrency)))  # open the connections
        w = Window(seconds)

        async def worker(k: int) -> None:
            n = 0
            while w.open():
                w.tick(+1)
                await one(k + n * concurrency)
                w.tick(-1)
                n += 1

        done = lost = n_tokens = 0
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        return w.result("plain", concurrency, done, lost, n_tokens)


async def chimera_capacity(url: str, concurrency: int, seconds: float, tokens: int) -> Capacity:
    """chimera load's own path: a closed-loop LevelRunner, every request recorded with its
    socket timestamps (TTFT, every ITL, TPOT, e2e)."""
    prompts = load_prompts(tokens)
    settings = EndpointSettings(kind="ollama", url=url, max_connections=concurrency)
    async with OllamaBackend(settings) as backend:
        warm = LoadSpec(levels=(LoadLevel(concurrency=concurrency),), requests=concurrency,
                        output_tokens=tokens)  # fmt: skip
        await LevelRunner(backend, prompts, warm, warm.levels[0]).execute()
        spec = LoadSpec(levels=(LoadLevel(concurrency=concurrency),), duration_s=seconds,
                        output_tokens=tokens)  # fmt: skip
        run = await LevelRunner(backend, prompts, spec, spec.levels[0]).execute()
    # the level's own clock and CPU: its collection before the start (runner.quiet_gc, tens
    # of ms a level) is no part of the level, and the plain loop has none
    ok = [r for r in run.records if r.status == "ok"]
    tokens_ok = sum(r.output_tokens or 0 for r in ok)
    return Capacity(
        "chimera", concurrency, round(run.wall_s, 3), len(ok), len(run.records) - len(ok),
        tokens_ok, round(tokens_ok / run.wall_s), round(tokens_ok / run.cpu_s),
        round(100 * run.cpu_s / run.wall_s), round(summarize(run).mean_concurrency or 0.0, 2),
    )  # fmt: skip


class GcWatch:
    """Times the collector's pauses while it is entered (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, int, float, float]] = []  # start ns, gen, wall ms, cpu ms
        self._t = 0
        self._cpu = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t, self._cpu = time.perf_counter_ns(), time.thread_time()
        else:
            wall = (time.perf_counter_ns() - self._t) / 1e6
            cpu = (time.thread_time() - self._cpu) * 1e3
            self.pauses.append((self._t, info["generation"], wall, cpu))

    def since(self, t0_ns: int) -> list[tuple[int, int, float, float]]:
        """The pauses from ``t0_ns`` on (a level's start: not the runner's collection before)."""
        return [p for p in self.pauses if p[0] >= t0_ns]

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


class ServerTimeline:
    """Reads the test server's --timeline file as it grows: the entries since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def take(self, tags: set[str], timeout_s: float = 10.0) -> dict[str, dict[str, int]]:
        """The entries of ``tags``, waiting (the server writes them once it is idle, which
        may be a moment after the client has read its last response)."""
        found: dict[str, dict[str, int]] = {}
        deadline = time.monotonic() + timeout_s
        while True:
            data = self.path.read_bytes()[self.offset :] if self.path.exists() else b""
            end = data.rfind(b"\n") + 1
            self.offset += end
            for line in data[:end].splitlines():
                entry = orjson.loads(line)
                if entry["tag"] in tags:
                    found[entry["tag"]] = entry
            if len(found) >= len(tags) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


class WriteTap:
    """While entered, notes when each request body's write returned (perf_counter_ns), by
    the nonce line it carries: a regex search a write, in the benchmark only."""

    TAG = re.compile(rb"\[chimera [^\]\\]+\]")

    def __init__(self) -> None:
        self.written: dict[str, int] = {}
        self._original = StampedStream.write

    def __enter__(self) -> WriteTap:
        original, written, tag = self._original, self.written, self.TAG

        async def write(stream: StampedStream, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
            await original(stream, buffer, timeout)
            found = tag.search(buffer)
            if found is not None:
                written[found.group().decode()] = time.perf_counter_ns()

        StampedStream.write = write  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        StampedStream.write = self._original  # type: ignore[method-assign]


def preemptions(pid: int | None = None) -> int:
    """Involuntary context switches so far of this process (or ``pid``'s): each one a time
    the kernel gave the core to something else while the process could have run."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("nonvoluntary_ctxt_switches:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pct(values: np.ndarray, q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if len(values) else float("nan")


def split_errors(
    run: LevelRun,
    prompts: Prompts,
    entries: dict[str, dict[str, int]],
    written: dict[str, int],
    pauses: list,
) -> dict[str, object]:
    """Each measured request's TTFT error in its parts (ms), joined on the prompt's nonce
    line; requests the server logged no first write for are left out (and counted)."""
    parts: dict[str, list[float]] = {k: [] for k in SPLIT}
    missing = 0
    gc_ms: list[float] = []  # collector pauses inside each first token's wire+client window
    for r in run.records:
        if not (r.counted and r.status == "ok" and r.ttft_ms is not None):
            continue
        assert r.queue_ms is not None
        tag = tag_of([m.content for m in prompts.request(r.index).messages])
        e = entries.get(tag)
        if e is None or not e["first_write_ns"] or not e["received_ns"] or tag not in written:
            missing += 1
            continue
        # the client's stamps, absolute perf_counter_ns: the request's first byte going out
        # (send_request_headers) and the first token's arrival (data_received)
        start_ns = run.t0_ns + r.sent_s * 1e9 + r.queue_ms * 1e6
        first_ns = start_ns + r.ttft_ms * 1e6
        send = (written[tag] - start_ns) / 1e6
        read = (e["received_ns"] - written[tag]) / 1e6
        server = (e["first_write_ns"] - e["received_ns"]) / 1e6 - INJECTED_TTFT_MS
        wire = (first_ns - e["first_write_ns"]) / 1e6
        parts["end_to_end"].append(r.ttft_ms - INJECTED_TTFT_MS)
        parts["client_send"].append(send)
        parts["server_read"].append(read)
        parts["server_late"].append(server)
        parts["server_wake"].append((e["woke_ns"] - e["due_ns"]) / 1e6)
        parts["wire_client"].append(wire)
        parts["server"].append(read + server)
        parts["client"].append(send + wire)
        # the collector's pauses between the server's write and the client's stamp held it
        w0, w1 = e["first_write_ns"], first_ns
        gc_ms.append(sum(max(0.0, min(w1, t + ms * 1e6) - max(w0, t)) / 1e6
                         for t, _, ms, _ in pauses))  # fmt: skip
    held = np.array(gc_ms)
    out: dict[str, object] = {
        "joined": len(parts["client"]), "unjoined": missing,
        "gc_in_wire_client_ms": {"held": int((held > 0).sum()), "p99": _pct(held, 99),
                                 "max": round(float(held.max()), 3) if len(held) else 0.0},
    }  # fmt: skip
    for k, values in parts.items():
        a = np.array(values)
        out[k] = {"p50": _pct(a, 50), "p99": _pct(a, 99),
                  "max": round(float(a.max()), 3) if len(a) else float("nan")}  # fmt: skip
    return out


SPLIT = {
    "end_to_end": "end-to-end (client TTFT - 200)",
    "client_send": "client send (body written - client start)",
    "server_read": "server read (server arrival - body written)",
    "server_late": "server late (first write - arrival - 200)",
    "server_wake": "  of it: its wake-up (woke - due)",
    "wire_client": "wire+client (client stamp - server write)",
    "server": "the server's part (read + late)",
    "client": "the client's own (send + wire+client)",
}


async def accuracy(
    url: str, streams: int, tokens: int, rounds: int, quiet_gc: bool = True, nonce: str = "c"
) -> tuple[dict[str, object], LevelRun, Prompts, list]:
    """One run: ``streams`` closed-loop streams through chimera load's path, a warm-up round
    left out, then ``rounds`` rounds measured; every TTFT against the injected 200 ms."""
    prompts = load_prompts(tokens, nonce)
    settings = EndpointSettings(kind="ollama", url=url, max_connections=streams)
    spec = LoadSpec(
        levels=(LoadLevel(concurrency=streams),), requests=streams * rounds,
        warmup=Warmup(requests=streams), input_tokens=16, output_tokens=tokens,
    )  # fmt: skip
    async with OllamaBackend(settings) as backend:
        with GcWatch() as watch:
            runner = LevelRunner(backend, prompts, spec, spec.levels[0], quiet_gc=quiet_gc)
            run = await runner.execute()
    ok = [r for r in run.records if r.counted and r.status == "ok" and r.ttft_ms is not None]
    error = np.array([r.ttft_ms for r in ok]) - INJECTED_TTFT_MS
    itl = np.array([g for r in ok for g in r.itl_ms]) - INJECTED_ITL_MS
    pauses = watch.since(run.t0_ns)
    figures: dict[str, object] = {
        "quiet_gc": quiet_gc,
        "requests": len(ok),
        "failed": len([r for r in run.records if r.counted]) - len(ok),
        "ttft_error_ms_p50": round(float(np.percentile(error, 50)), 3),
        "ttft_error_ms_p99": round(float(np.percentile(error, 99)), 3),
        "ttft_error_ms_max": round(float(error.max()), 3),
        "itl_error_ms_p50": round(float(np.percentile(itl, 50)), 3),
        "loop_lag_ms_max": round(max(run.loop_lag_ms, default=0.0), 2),
        "gc_collections": len(pauses),
        "gc_gen2": sum(p[1] == 2 for p in pauses),
        "gc_pause_ms_max": round(max((p[2] for p in pauses), default=0.0), 2),
        "gc_pause_cpu_ms_max": round(max((p[3] for p in pauses), default=0.0), 2),
    }
    return figures, run, prompts, pauses


def run(coro):  # type: ignore[no-untyped-def]
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def capacity_figures(args: argparse.Namespace, pin: bool, figures: dict[str, object]) -> None:
    proc, url = start_server(["--fast", "--tokens", str(args.tokens)], 1 if pin else None)
    rows: list[Capacity] = []
    try:
        for c in (int(x) for x in args.concurrency.split(",")):
            for _ in range(args.rounds):  # alternated, so both see the same machine
                rows.append(run(plain_capacity(url, c, args.seconds, args.tokens)))
                rows.append(run(chimera_capacity(url, c, args.seconds, args.tokens)))
    finally:
        proc.terminate()
        proc.wait()
    figures["capacity"] = [asdict(r) for r in rows]
    print(
        f"Capacity (client on 1 core{', server on the other' if pin else ''}, one token per "
        f"write, {args.tokens} tokens/request, {args.seconds:g} s x {args.rounds} rounds each)"
    )
    print(f"{'conc':>5} {'client':>8} {'tokens/s':>9} {'tok/cpu-s':>9} {'cpu':>5} "
          f"{'sustained':>9} {'requests':>8} {'lost':>4}")  # fmt: skip
    ratios = {}
    for c in dict.fromkeys(r.concurrency for r in rows):
        for name in ("plain", "chimera"):
            for r in (r for r in rows if r.concurrency == c and r.client == name):
                print(
                    f"{c:>5} {name:>8} {r.tokens_per_s:>9,} {r.tokens_per_cpu_s:>9,} "
                    f"{r.cpu_percent:>4}% {r.sustained_concurrency:>9} {r.requests:>8} {r.lost:>4}"
                )

        def med(name: str, field: str, c: int = c) -> float:
            vals = [getattr(r, field) for r in rows if r.concurrency == c and r.client == name]
            return float(np.median(vals))

        ratio = med("chimera", "tokens_per_s") / med("plain", "tokens_per_s")
        cpu_ratio = med("chimera", "tokens_per_cpu_s") / med("plain", "tokens_per_cpu_s")
        ratios[c] = {"tokens_per_s": round(ratio, 3), "tokens_per_cpu_s": round(cpu_ratio, 3)}
        print(f"{c:>5}  chimera/plain (medians): tokens/s {ratio:.2f}x, "
              f"tokens per client CPU second {cpu_ratio:.2f}x")  # fmt: skip
    figures["capacity_ratio"] = ratios


def _triple(d: dict[str, float]) -> str:
    return f"{d['p50']:+7.2f} {d['p99']:+7.2f} {d['max']:+7.2f}"


def accuracy_figures(args: argparse.Namespace, pin: bool, figures: dict[str, object]) -> None:
    tmp = tempfile.TemporaryDirectory(prefix="chimera-accuracy-")
    timeline = ServerTimeline(Path(tmp.name) / "timeline.jsonl")
    proc, url = start_server(
        ["--prefill-ms", str(INJECTED_TTFT_MS), "--token-interval-ms", str(INJECTED_ITL_MS),
         "--tokens", "50", "--timeline", str(timeline.path)], 1 if pin else None,
    )  # fmt: skip
    acc: list[dict[str, object]] = []
    try:
        for i in range(args.runs):
            # each run its own nonce: the server's lines name their run's requests
            before = preemptions(), preemptions(proc.pid)
            with WriteTap() as tap:
                a, level, prompts, pauses = run(
                    accuracy(url, 64, 50, args.accuracy_rounds, not args.default_gc, f"a{i}")
                )
            a["preempted_client"] = preemptions() - before[0]
            a["preempted_server"] = preemptions(proc.pid) - before[1]
            a["load_average"] = round(os.getloadavg()[0], 2)
            tags = {tag_of([m.content for m in prompts.request(r.index).messages])
                    for r in level.records}  # fmt: skip
            a["split"] = split_errors(level, prompts, timeline.take(tags), tap.written, pauses)
            acc.append(a)
    finally:
        proc.terminate()
        proc.wait()
        tmp.cleanup()
    figures["accuracy"] = acc
    print(
        f"\nAccuracy under load: 64 streams, {INJECTED_TTFT_MS} ms first token and "
        f"{INJECTED_ITL_MS} ms between tokens injected, {args.runs} runs "
        f"({args.accuracy_rounds} rounds of 64 requests each)"
    )
    print(" run  requests  TTFT error p50 / p99 / max ms  ITL error p50  loop lag max"
          "  GC: collections gen2 pause max (cpu)  preempted: client server  load")  # fmt: skip
    for i, a in enumerate(acc):
        print(
            f" {i:3d}  {a['requests']:8d}  {a['ttft_error_ms_p50']:+8.3f} "
            f"{a['ttft_error_ms_p99']:+8.3f} {a['ttft_error_ms_max']:+8.3f}     "
            f"{a['itl_error_ms_p50']:+8.3f}  {a['loop_lag_ms_max']:9.2f} ms"
            f"  {a['gc_collections']:6d} {a['gc_gen2']:4d} {a['gc_pause_ms_max']:7.2f} ms"
            f" ({a['gc_pause_cpu_ms_max']:.2f})"
            f"  {a['preempted_client']:6d} {a['preempted_server']:6d}  {a['load_average']:.2f}"
            + (f"  {a['failed']} failed" if a["failed"] else "")
        )
    print(
        "(preempted: involuntary context switches during the run, the client's and the "
        "server's: the times another process took their core. Where they run to hundreds, the "
        "machine's other work is in the figures.)"
    )
    print("\nThe TTFT error split (ms, p50 p99 max), from the server's timeline joined on each "
          "request's nonce line:")  # fmt: skip
    for key, label in SPLIT.items():
        print(f"  {label}")
        for i, a in enumerate(acc):
            sp = a["split"]
            note = ""
            if key == "wire_client":
                g = sp["gc_in_wire_client_ms"]
                note = (f"   GC inside it: {g['held']} first tokens, p99 {g['p99']:.2f} ms, "
                        f"max {g['max']:.2f} ms")  # fmt: skip
            if key == "end_to_end" and sp["unjoined"]:
                note = f"   {sp['unjoined']} requests not in the server's timeline"
            print(f"    run {i:2d}  {_triple(sp[key])}{note}")

    def over(key: str) -> tuple[list[float], list[float], float]:
        parts = [a["split"][key] for a in acc]
        return [p["p50"] for p in parts], [p["p99"] for p in parts], max(p["max"] for p in parts)

    for key, label in (("end_to_end", "end-to-end TTFT error"), ("server", "the server's part"),
                       ("client", "the client's own error")):  # fmt: skip
        p50s, p99s, worst = over(key)
        print(f"  over the runs, {label}: p50 {min(p50s):+.2f} to {max(p50s):+.2f} ms, "
              f"p99 {min(p99s):+.2f} to {max(p99s):+.2f} ms, worst {worst:+.2f} ms")  # fmt: skip

    def goal(key: str) -> tuple[bool, str]:
        p50s, p99s, worst = over(key)
        met = max(p50s) <= 1 and max(p99s) <= 5 and worst <= 20
        return met, (f"{'met' if met else 'NOT met'} (p50 up to {max(p50s):+.2f}, p99 up to "
                     f"{max(p99s):+.2f}, worst {worst:+.2f})")  # fmt: skip

    met, said = goal("client")
    print(
        "  goal (p50 <= 1 ms, p99 <= 5 ms in every run, no request above 20 ms), judged on "
        f"the client's own error (what Chimera's timing adds to the server's): {said}"
    )
    print(f"  the same on the end-to-end error, server included: {goal('end_to_end')[1]}")
    figures["accuracy_goal_met"] = met


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", default="16,64,256")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--tokens", type=int, default=256, help="tokens per request (capacity)")
    ap.add_argument("--rounds", type=int, default=2, help="capacity rounds per client")
    ap.add_argument("--runs", type=int, default=10, help="accuracy runs")
    ap.add_argument("--accuracy-rounds", type=int, default=3, help="rounds of 64 per run")
    ap.add_argument(
        "--default-gc", action="store_true", help="accuracy without the runner's GC policy"
    )
    ap.add_argument("--skip-capacity", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    pin = len(os.sched_getaffinity(0)) >= 2 and bool(
        subprocess.run(["which", "taskset"], capture_output=True).returncode == 0
    )
    if pin:
        os.sched_setaffinity(0, {0})
    figures: dict[str, object] = {"pinned": pin}
    # the machine's load beside the figures: a shared machine's cores are not the benchmark's
    figures["load_average_before"] = os.getloadavg()
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")

    if not args.skip_capacity:
        capacity_figures(args, pin, figures)
    if not args.skip_accuracy:
        accuracy_figures(args, pin, figures)
    figures["load_average_after"] = os.getloadavg()
    print(f"load average {os.getloadavg()[0]:.2f} after")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
