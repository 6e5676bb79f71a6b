"""The soak: `chimera load` at 64 streams for 1,000 requests against a server that fails one
request in 20, then the time it takes to see a stalled stream.

    python benchmarks/soak.py                      # the issue's figures: -c 64 -n 1000, twice
    python benchmarks/soak.py -n 200 -c 32 --rounds 1   # shorter
    python benchmarks/soak.py --json out.json

The test server runs in its own process (``python -m chimera.testing``) and answers every
20th generation request from the 20th on with an HTTP 500 (``--fault http_500 --fault-every
20 --fault-from-request 20``; the first 4 requests are `chimera load`'s prompt calibration).
`chimera load` itself runs in this process, the real command (`chimera.cli.app.main` with its
argv), with its ``run_load`` wrapped to sample the process, on the event loop, just before the
run starts and just after it returns: resident memory, open file descriptors, asyncio tasks
and threads.

Printed for each round (two by default, in the same process: memory that is flat from the
first round's end to the second's is not leaking): requests planned and sent (records
written), ok, failed by type, cancelled and lost (planned but neither ok, failed nor
cancelled; must be 0), the run store's request rows, and the samples.
Then the stall: one request whose stream stops after 3 tokens (``--fault stall``), one whose
bytes drip without ending a line (``--fault drip``) and one sent lines with no token
(``--fault keepalive``), each under ``--idle-timeout``; printed is how long after its last
token each was failed, against the timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import chimera.cli.load as cli_load
from chimera.cli.app import main as chimera_main
from chimera.testing.process import server_processes
from chimera.testing.server import TestServer

FAULT_EVERY = 20  # one request in 20 fails: 5 %
CALIBRATION_REQUESTS = 4  # `chimera load`'s prompt calibration, before the measured requests


@dataclass
class Sample:
    """The process at one moment."""

    rss_mb: float
    open_fds: int
    sockets: int  # of open_fds
    asyncio_tasks: int
    threads: int


def sample() -> Sample:
    """This process now; asyncio tasks of the running loop (0 outside one)."""
    gc.collect()
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:
        tasks = 0
    links = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            links.append(str(fd.readlink()))
        except OSError:  # the listing's own descriptor, closed by now
            continue
    return Sample(
        rss_mb=rss_kb / 1024,
        open_fds=len(links),
        sockets=sum(link.startswith("socket:") for link in links),
        asyncio_tasks=tasks,
        threads=threading.active_count(),
    )


@dataclass
class SoakResult:
    requests: int
    concurrency: int
    seconds: float
    sent: int
    ok: int
    failed_by_type: dict[str, int]
    cancelled: int
    lost: int
    failed_expected: int
    store_rows: int
    exit_code: int
    start: Sample
    end: Sample
    samples: list[Sample] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(self.failed_by_type.values())


@contextmanager
def sampled_run_load(into: list[Sample]) -> Iterator[None]:
    """Wrap the ``run_load`` `chimera load` calls so the process is sampled on its event
    loop just before the run and just after it."""
    real = cli_load.run_load

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        into.append(sample())
        outcome = await real(*args, **kwargs)
        await asyncio.sleep(0)  # let callbacks of closed connections run
        into.append(sample())
        return outcome

    cli_load.run_load = wrapped  # type: ignore[assignment]
    try:
        yield
    finally:
        cli_load.run_load = real


def run_cli(argv: list[str]) -> int:
    """``chimera ARGV`` in this process; its exit code."""
    saved = sys.argv
    sys.argv = ["chimera", *argv]
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its report: the figures are read
            chimera_main()  # from the files it writes
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = saved
    return 0


def soak(
    requests: int, concurrency: int, out: Path, server_args: list[str] | None = None
) -> SoakResult:
    """One `chimera load` run of ``requests`` at ``concurrency`` against a server failing one
    request in ``FAULT_EVERY``; what it accounted for, and the process before and after."""
    args = server_args or ["--prefill-ms", "5", "--token-interval-ms", "1", "--tokens", "16"]
    fault = [
        "--fault",
        "http_500",
        "--fault-every",
        str(FAULT_EVERY),
        "--fault-from-request",
        str(FAULT_EVERY),
    ]
    samples: list[Sample] = []
    with server_processes(1, [*args, *fault, "--uvloop"]) as (url,), sampled_run_load(samples):
        t0 = time.perf_counter()
        code = run_cli(
            [
                "load",
                url,
                "--model",
                "tiny:latest",
                "-c",
                str(concurrency),
                "-n",
                str(requests),
                "--warmup",
                "0",
                "--input-tokens",
                "32",
                "--output-tokens",
                "16",
                "--output-dir",
                str(out),
                "--db",
                str(out / "runs.db"),
                "-q",
            ]
        )
        seconds = time.perf_counter() - t0
    records = [json.loads(x) for x in (out / "requests.jsonl").read_text().splitlines()]
    status = Counter(r["status"] for r in records)
    failed = Counter(r["error_type"] for r in records if r["status"] == "failed")
    con = sqlite3.connect(out / "runs.db")
    try:
        (rows,) = con.execute("SELECT COUNT(*) FROM requests").fetchone()
    finally:
        con.close()
    # the server's numbering: calibration first, then the measured requests
    numbers = range(CALIBRATION_REQUESTS + 1, CALIBRATION_REQUESTS + requests + 1)
    expected = sum(1 for n in numbers if n >= FAULT_EVERY and n % FAULT_EVERY == 0)
    return SoakResult(
        requests=requests,
        concurrency=concurrency,
        seconds=seconds,
        sent=len(records),
        ok=status["ok"],
        failed_by_type=dict(failed),
        cancelled=status["cancelled"],
        lost=requests - status["ok"] - status["failed"] - status["cancelled"],
        failed_expected=expected,
        store_rows=rows,
        exit_code=code,
        start=samples[0],
        end=samples[-1],
        samples=samples,
    )


@dataclass
class StallResult:
    fault: str
    idle_timeout_s: float
    error_type: str | None
    detected_after_last_token_s: float | None


def stall_detection(fault: str, idle_timeout_s: float, out: Path) -> StallResult:
    """One `chimera load` request whose stream stops (or drips) after 3 tokens: how long after
    its last token it was failed. A given prompt: no calibration requests."""
    prompts = out / f"{fault}.jsonl"
    prompts.write_text('{"prompt": "Say hi.", "output_tokens": 16}\n', encoding="utf-8")

    async def serve_and_run() -> int:
        async with TestServer(fault=fault, token_interval_ms=5, stall_s=idle_timeout_s * 10) as srv:  # type: ignore[arg-type]
            args = [
                "load",
                srv.url,
                "--model",
                "tiny:latest",
                "-c",
                "1",
                "-n",
                "1",
                "--warmup",
                "0",
                "--prompts",
                str(prompts),
                "--idle-timeout",
                str(idle_timeout_s),
                "--output-dir",
                str(out / fault),
                "--no-store",
                "-q",
            ]
            return await asyncio.to_thread(run_cli, args)

    asyncio.run(serve_and_run())
    [rec] = [json.loads(x) for x in (out / fault / "requests.jsonl").read_text().splitlines()]
    after = None
    if rec["e2e_ms"] is not None and rec["ttft_ms"] is not None:
        last_token_ms = rec["ttft_ms"] + sum(rec["itl_ms"])
        after = (rec["e2e_ms"] - last_token_ms) / 1000
    return StallResult(fault, idle_timeout_s, rec["error_type"], after)


def _print(results: list[SoakResult], stalls: list[StallResult]) -> None:
    for i, r in enumerate(results, 1):
        print(
            f"round {i}: chimera load -c {r.concurrency} -n {r.requests}, one request in "
            f"{FAULT_EVERY} failing (HTTP 500): {r.seconds:.1f} s, exit {r.exit_code}"
        )
        by_type = ", ".join(f"{k} {v}" for k, v in r.failed_by_type.items()) or "none"
        print(
            f"  requests planned {r.requests}, sent {r.sent}, ok {r.ok}, failed {r.failed} "
            f"({by_type}; the server failed {r.failed_expected}), cancelled {r.cancelled}, "
            f"lost {r.lost}; run store: {r.store_rows} request rows"
        )
        s, e = r.start, r.end
        print(f"  RSS {s.rss_mb:.1f} -> {e.rss_mb:.1f} MB ({e.rss_mb - s.rss_mb:+.1f})")
        print(
            f"  open fds {s.open_fds} -> {e.open_fds} (sockets {s.sockets} -> {e.sockets}); "
            f"asyncio tasks {s.asyncio_tasks} -> {e.asyncio_tasks}; "
            f"threads {s.threads} -> {e.threads}"
        )
    for st in stalls:
        after = st.detected_after_last_token_s
        seen = "not failed" if after is None else f"failed {after:.2f} s after its last token"
        print(f"{st.fault}: --idle-timeout {st.idle_timeout_s:g} s -> {st.error_type}, {seen}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--requests", type=int, default=1000)
    p.add_argument("-c", "--concurrency", type=int, default=64)
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="runs in this one process: memory that stays flat from one to the next is no leak",
    )
    p.add_argument("--idle-timeout", type=float, default=2.0)
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="chimera-soak-") as tmp:
        os.environ["CHIMERA_HOME"] = str(Path(tmp) / "home")
        results = [
            soak(args.requests, args.concurrency, Path(tmp) / f"load{i}")
            for i in range(args.rounds)
        ]
        stalls = [
            stall_detection(f, args.idle_timeout, Path(tmp)) for f in ("stall", "drip", "keepalive")
        ]
    _print(results, stalls)
    if args.json:
        doc = {"soak": [asdict(r) for r in results], "stalls": [asdict(s) for s in stalls]}
        args.json.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    ok = all(
        r.lost == 0 and r.ok + r.failed == r.sent == r.requests and r.exit_code == 0
        for r in results
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
