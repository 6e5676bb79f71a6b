"""Side by side with guidellm: the same loads on the same test server, measured by guidellm and
by `chimera load`, against what the server was told to do.

    python benchmarks/guidellm_side_by_side.py /tmp/guidellm-venv/bin/guidellm
    python benchmarks/guidellm_side_by_side.py GUIDELLM --loads c16,c64,r30 --duration 15 \
        --rounds 2 --json side_by_side.json

guidellm is an outside tool, not a dependency of Chimera: install it into a venv of its own and
pass the path of its ``guidellm`` executable (the venv is about 4 GB, torch and CUDA wheels
included):

    python3 -m venv /tmp/guidellm-venv
    /tmp/guidellm-venv/bin/pip install 'guidellm==0.8.1'

Measured with **guidellm 0.8.1** (transformers 5.25.0, tokenizers 0.23.3). Its command line
changed in 0.8: ``guidellm run`` with ``--backend/--profile/--constraint/--tokenizer/--data/
--output`` each taking ``kind=...,key=value`` or a JSON object (the older ``guidellm benchmark
--target ... --rate-type ...`` is gone); this script speaks the 0.8 form and stops, saying so,
when the executable is not 0.8.

**The server**: one ``python -m chimera.testing --protocol openai`` process (uvloop), with a
first-token delay (``--prefill-ms``, counted from when the request arrived) and an inter-token
delay (``--token-interval-ms``), unlimited slots, answering ``--output-tokens`` tokens. Both
tools load it in turn, at each load (``--loads``: ``cN`` a closed loop of N streams, ``rR`` a
constant rate of R requests per second), ``--rounds`` times, alternating which tool goes first.

**Offline tokenizer**: guidellm's synthetic prompts need a Hugging Face tokenizer ("processor")
and the Hub is out of reach here. The script builds one with guidellm's own Python (the
``tokenizers`` and ``transformers`` it installed): a word-level vocabulary trained on Faker's
text (the words guidellm's synthetic data draws from), split on whitespace, saved with
``save_pretrained`` into the work directory and passed as ``--tokenizer
kind=huggingface_auto,model=DIR``, with ``HF_HUB_OFFLINE=1``. A token is then a
whitespace-separated word, which is exactly how the test server counts prompt tokens.

**Which figures** (guidellm's JSON ``benchmarks[0].metrics``, ``successful`` requests):
``request_totals.successful``; ``requests_per_second.successful.mean`` (ok requests over the
measured duration); ``request_concurrency.total.mean``; ``output_tokens_per_second.successful.
mean``; ``time_to_first_token_ms`` and ``inter_token_latency_ms`` (milliseconds: median and
``percentiles.p99``). Chimera's ``levels[0]``: ``requests_ok``, ``requests_per_s``,
``mean_concurrency``, ``output_tokens_per_s``, ``ttft_ms`` and ``itl_ms`` (ms, ``p50``/
``p99``). The error is measured minus injected: TTFT against ``--prefill-ms`` (the server's
clock starts when it has read the request, so the error is the client's and the loopback's),
ITL against ``--token-interval-ms``.

**ITL is not the same statistic**: guidellm keeps a request's first and last token times only,
so its ``inter_token_latency_ms`` is each request's *mean* gap, counted once per gap (output
tokens - 1); Chimera stamps every chunk and its ``itl_ms`` is the distribution of the gaps
themselves. The p50s are close either way; the p99s are not comparable, so the table gives
Chimera's per-gap p99 and, beside guidellm's, the p99 of Chimera's per-request means weighted
the same way (from its ``requests.jsonl``). **Sent req/s**: Chimera's ``achieved_rate_rps``;
for guidellm the same (n - 1)/span over the ``request_start`` of its listed requests that
started in the measured span (its list also holds the warm-up's).

Differences in what is counted, kept as each tool does it: guidellm drops the requests still in
flight when its duration ends (``incomplete``, shown apart); Chimera lets them finish and counts
them, over the window from its first measured dispatch to its last end. Both leave out
``--warmup`` seconds at the start (guidellm's profile ``warmup``, Chimera's ``--warmup Ns``).

Exit codes: 0 done, 2 bad arguments, 3 guidellm cannot run here (the reason printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chimera.testing.process import server_processes

MODEL = "tiny:latest"
GUIDELLM_SERIES = "0.8."

# Run with guidellm's interpreter: builds the word-level tokenizer described above.
TOKENIZER_BUILDER = r"""
import sys
from faker import Faker
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

faker = Faker()
faker.seed_instance(0)
texts = [faker.text(max_nb_chars=2000) for _ in range(2000)]
core = Tokenizer(models.WordLevel(unk_token="[UNK]"))
core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
core.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]").save_pretrained(sys.argv[1])
print(core.get_vocab_size())
"""


class CannotRun(Exception):
    """guidellm cannot run on this machine; the message says why."""


@dataclass(frozen=True)
class Load:
    name: str
    streams: int | None = None
    rate: float | None = None


@dataclass
class Figures:
    tool: str
    load: str
    round: int
    ok: int
    incomplete: int
    failed: int
    sent_rps: float | None
    rps: float | None
    in_flight: float | None
    out_tok_s: float | None
    ttft_p50: float | None
    ttft_p99: float | None
    itl_p50: float | None
    itl_p99: float | None
    itl_req_mean_p99: float | None
    prompt_tokens: float | None
    output_tokens: float | None
    wall_s: float | None
    flagged: str  # what the tool said of its own load generation


def parse_loads(text: str) -> list[Load]:
    loads = []
    for item in text.split(","):
        item = item.strip()
        if item.startswith("c") and item[1:].isdigit():
            loads.append(Load(item, streams=int(item[1:])))
        elif item.startswith("r"):
            loads.append(Load(item, rate=float(item[1:])))
        else:
            raise SystemExit(f"bad load {item!r}: cN (N streams) or rR (R requests/s)")
    return loads


def _env_offline() -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return env


def check_guidellm(exe: Path) -> str:
    """guidellm's version, or CannotRun with the reason."""
    if not exe.is_file() or not os.access(exe, os.X_OK):
        raise CannotRun(f"{exe} is not an executable (install: see this script's docstring)")
    try:
        out = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, timeout=120,
            env=_env_offline(),
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise CannotRun(f"`{exe} --version` did not answer in 120 s") from exc
    said = (out.stdout + out.stderr).strip()
    version = said.rsplit(" ", 1)[-1] if said else ""
    if out.returncode != 0 or not version:
        raise CannotRun(f"`{exe} --version` failed: {said[-400:]}")
    if not version.startswith(GUIDELLM_SERIES):
        raise CannotRun(
            f"guidellm {version}: this script speaks guidellm {GUIDELLM_SERIES}x's `run` command "
            "line; install 'guidellm==0.8.1'"
        )
    return version


def build_tokenizer(exe: Path, into: Path) -> None:
    """The offline word-level tokenizer, built with guidellm's own interpreter."""
    python = exe.parent / "python"
    if not python.exists():
        raise CannotRun(
            f"no python beside {exe}: guidellm must be in a venv of its own, whose interpreter "
            "builds the offline tokenizer"
        )
    out = subprocess.run(
        [str(python), "-c", TOKENIZER_BUILDER, str(into)], capture_output=True, text=True,
        timeout=300, env=_env_offline(),
    )  # fmt: skip
    if out.returncode != 0 or not (into / "tokenizer.json").exists():
        raise CannotRun(
            "guidellm needs a Hugging Face tokenizer for synthetic prompts, the Hub is "
            "unreachable, and building one offline with its tokenizers/transformers/faker "
            f"failed: {(out.stderr or out.stdout).strip()[-600:]}"
        )


def _rate(times: list[float]) -> float | None:
    """Events per second: (n - 1) over the span of the sorted times."""
    times = sorted(times)
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return (len(times) - 1) / (times[-1] - times[0])


def _weighted_percentile(pairs: list[tuple[float, int]], q: float) -> float | None:
    """The q-th percentile (0-100) of values each counted ``weight`` times, interpolated."""
    values = sorted(v for v, w in pairs for _ in range(max(w, 0)))
    if not values:
        return None
    pos = (len(values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _stat(dist: dict[str, Any], key: str) -> float | None:
    if not dist or not dist.get("count"):
        return None
    return float(dist["median"] if key == "p50" else dist["percentiles"][key])


def run_guidellm(
    exe: Path, url: str, load: Load, args: argparse.Namespace, tok: Path, out: Path, rnd: int
) -> Figures:
    if load.streams is not None:
        profile = {"kind": "concurrent", "streams": [load.streams]}
    else:
        profile = {"kind": "constant", "rate": [load.rate]}
    if args.warmup > 0:
        profile["warmup"] = args.warmup
    cmd = [
        str(exe), "run",
        "--backend", f"kind=openai_http,target={url},model={MODEL}",
        "--profile", json.dumps(profile),
        "--constraint", f"kind=max_duration,seconds={args.warmup + args.duration:g}",
        "--tokenizer", f"kind=huggingface_auto,model={tok}",
        "--data", (
            f"kind=synthetic_text,prompt_tokens={args.input_tokens},"
            f"output_tokens={args.output_tokens}"
        ),
        "--output", f"kind=json,path={out}",
        "--disable-progress",
    ]  # fmt: skip
    env = _env_offline()
    if args.guidellm_workers:
        env["GUIDELLM__MAX_WORKER_PROCESSES"] = str(args.guidellm_workers)
    print("  $", " ".join(_quote(c) for c in cmd), flush=True)
    started = time.monotonic()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=args.duration * 10 + 300
    )
    wall = time.monotonic() - started
    (out.parent / f"{out.stem}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not out.exists():
        raise CannotRun(
            f"guidellm exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-800:]}"
        )
    return guidellm_figures(out, load.name, rnd, wall)


def guidellm_figures(out: Path, load: str, rnd: int, wall: float | None) -> Figures:
    """The figures of one guidellm JSON output (``benchmarks[0]``)."""
    bench = json.loads(out.read_text())["benchmarks"][0]
    m = bench["metrics"]
    # Its per-request list holds the warm-up's requests too: sent = started in the measured span.
    since = bench["scheduler_metrics"]["measure_start_time"]
    starts = [
        t for kind in ("successful", "incomplete", "errored")
        for req in bench["requests"].get(kind) or ()
        if (t := req["info"]["timings"].get("request_start")) is not None and t >= since
    ]  # fmt: skip

    def ok(name: str) -> dict[str, Any]:
        summary: dict[str, Any] = m[name]["successful"]
        return summary

    return Figures(
        tool="guidellm", load=load, round=rnd,
        ok=m["request_totals"]["successful"],
        incomplete=m["request_totals"]["incomplete"],
        failed=m["request_totals"]["errored"],
        sent_rps=_rate(starts),
        rps=ok("requests_per_second")["mean"],
        in_flight=m["request_concurrency"]["total"]["mean"],
        out_tok_s=ok("output_tokens_per_second")["mean"],
        ttft_p50=_stat(ok("time_to_first_token_ms"), "p50"),
        ttft_p99=_stat(ok("time_to_first_token_ms"), "p99"),
        itl_p50=_stat(ok("inter_token_latency_ms"), "p50"),
        itl_p99=None,  # guidellm keeps each request's mean gap only, not the gaps
        itl_req_mean_p99=_stat(ok("inter_token_latency_ms"), "p99"),
        prompt_tokens=ok("prompt_token_count")["mean"],
        output_tokens=ok("output_token_count")["mean"],
        wall_s=wall,
        flagged="; ".join(w["message"] for w in bench.get("warnings") or ()),
    )  # fmt: skip


def run_chimera(url: str, load: Load, args: argparse.Namespace, out: Path, rnd: int) -> Figures:
    cmd = [
        sys.executable, "-m", "chimera", "load", url, "--backend", "openai", "--model", MODEL,
        "--duration", f"{args.duration:g}", "--warmup", f"{args.warmup:g}s",
        "--input-tokens", str(args.input_tokens), "--output-tokens", str(args.output_tokens),
        "--json", "--no-store", "--quiet", "--output-dir", str(out),
    ]  # fmt: skip
    if load.streams is not None:
        cmd += ["--concurrency", str(load.streams)]
    else:
        cmd += ["--rate", f"{load.rate:g}", "--arrival", "constant"]
    print("  $", " ".join(_quote(c) for c in cmd), flush=True)
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration * 10 + 300)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"chimera load exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return chimera_figures(out, load.name, rnd, wall)


def chimera_figures(out: Path, load: str, rnd: int, wall: float | None) -> Figures:
    """The figures of one ``chimera load`` output directory (``load.json``, ``requests.jsonl``)."""
    level = json.loads((out / "load.json").read_text())["levels"][0]
    # guidellm's ITL statistic, for comparison: each request's mean gap, weighted by its gaps
    means = []
    with (out / "requests.jsonl").open() as lines:
        for line in lines:
            rec = json.loads(line)
            if rec["status"] == "ok" and not rec["warmup"] and rec["itl_ms"]:
                means.append((sum(rec["itl_ms"]) / len(rec["itl_ms"]), len(rec["itl_ms"])))
    return Figures(
        tool="chimera", load=load, round=rnd,
        ok=level["requests_ok"], incomplete=level["requests_cancelled"],
        failed=level["requests_failed"], sent_rps=level["achieved_rate_rps"],
        rps=level["requests_per_s"], in_flight=level["mean_concurrency"],
        out_tok_s=level["output_tokens_per_s"],
        ttft_p50=level["ttft_ms"]["p50"], ttft_p99=level["ttft_ms"]["p99"],
        itl_p50=level["itl_ms"]["p50"], itl_p99=level["itl_ms"]["p99"],
        itl_req_mean_p99=_weighted_percentile(means, 99),
        prompt_tokens=level["input_tokens_mean"], output_tokens=level["output_tokens_mean"],
        wall_s=wall,
        flagged="; ".join([*level["generator"]["notes"], *filter(None, [level["over_saturated"]])]),
    )  # fmt: skip


def _quote(word: str) -> str:
    return f"'{word}'" if any(c in word for c in ' {}"') else word


def _f(x: float | None, fmt: str = ".1f") -> str:
    return "-" if x is None else format(x, fmt)


def _err(x: float | None, injected: float) -> str:
    return "-" if x is None else f"{x - injected:+.1f}"


def table(rows: list[Figures], args: argparse.Namespace) -> str:
    head = (
        "| load | tool | round | ok (cut) | sent req/s | ok req/s | in flight | out tok/s "
        "| TTFT p50 ms (err) | TTFT p99 ms (err) | ITL p50 ms (err) | ITL p99 ms per gap "
        "| ITL p99 ms of request means | prompt / output tok | wall s | said of itself |"
    )
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        lines.append(
            f"| {r.load} | {r.tool} | {r.round} | {r.ok} ({r.incomplete}) "
            f"| {_f(r.sent_rps, '.2f')} | {_f(r.rps, '.2f')} "
            f"| {_f(r.in_flight, '.2f')} | {_f(r.out_tok_s, '.0f')} "
            f"| {_f(r.ttft_p50)} ({_err(r.ttft_p50, args.prefill_ms)}) "
            f"| {_f(r.ttft_p99)} ({_err(r.ttft_p99, args.prefill_ms)}) "
            f"| {_f(r.itl_p50, '.2f')} ({_err(r.itl_p50, args.token_interval_ms)}) "
            f"| {_f(r.itl_p99, '.2f')} | {_f(r.itl_req_mean_p99, '.2f')} "
            f"| {_f(r.prompt_tokens, '.0f')} / {_f(r.output_tokens, '.0f')} "
            f"| {_f(r.wall_s, '.0f')} | {r.flagged or '-'} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("guidellm", type=Path, help="path of the guidellm executable (its own venv)")
    p.add_argument("--loads", default="c16,c64,r30", help="cN closed loop, rR constant rate")
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds left out at the start")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--prefill-ms", type=float, default=200.0, help="injected first-token delay")
    p.add_argument("--token-interval-ms", type=float, default=10.0, help="injected ITL")
    p.add_argument("--input-tokens", type=int, default=128)
    p.add_argument("--output-tokens", type=int, default=64)
    p.add_argument(
        "--guidellm-workers", type=int, default=0,
        help="GUIDELLM__MAX_WORKER_PROCESSES (default: guidellm's own, 10)",
    )  # fmt: skip
    p.add_argument("--workdir", type=Path, help="where outputs go (default: a temp dir)")
    p.add_argument("--json", type=Path, help="write every row here")
    p.add_argument(
        "--from-dir", type=Path,
        help="run nothing: print the table of an earlier run's --workdir (same --loads/--rounds)",
    )  # fmt: skip
    args = p.parse_args()
    loads = parse_loads(args.loads)
    if args.from_dir:
        rows: list[Figures] = [
            figures(args.from_dir / f"{tool}-{load.name}-r{rnd}{ext}", load.name, rnd, None)
            for load in loads for rnd in range(1, args.rounds + 1)
            for tool, ext, figures in (
                ("chimera", "", chimera_figures), ("guidellm", ".json", guidellm_figures)
            )
        ]  # fmt: skip
        report(rows, args)
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="guidellm-side-"))
    workdir.mkdir(parents=True, exist_ok=True)
    exe = args.guidellm.absolute()
    try:
        version = check_guidellm(exe)
        tok = workdir / "tokenizer"
        build_tokenizer(exe, tok)
    except CannotRun as exc:
        print(f"guidellm cannot run here: {exc}", file=sys.stderr)
        return 3
    print(f"guidellm {version}; offline word-level tokenizer in {tok}; outputs in {workdir}")
    server_args = [
        "--protocol", "openai", "--uvloop", "--prefill-ms", f"{args.prefill_ms:g}",
        "--token-interval-ms", f"{args.token_interval_ms:g}", "--tokens", str(args.output_tokens),
    ]  # fmt: skip
    print("server: python -m chimera.testing", " ".join(server_args))
    rows = []
    with server_processes(1, server_args) as (url,):
        print(f"server at {url}")
        for rnd in range(1, args.rounds + 1):
            for i, load in enumerate(loads):
                order = ("guidellm", "chimera") if (rnd + i) % 2 else ("chimera", "guidellm")
                for tool in order:
                    print(f"[round {rnd}] {load.name}: {tool}", flush=True)
                    stem = f"{load.name}-r{rnd}"
                    try:
                        if tool == "guidellm":
                            out = workdir / f"guidellm-{stem}.json"
                            rows.append(run_guidellm(exe, url, load, args, tok, out, rnd))
                        else:
                            out = workdir / f"chimera-{stem}"
                            rows.append(run_chimera(url, load, args, out, rnd))
                    except CannotRun as exc:
                        print(f"guidellm cannot run here: {exc}", file=sys.stderr)
                        return 3
                    r = rows[-1]
                    print(
                        f"  ok {r.ok}, {_f(r.rps, '.2f')} req/s, TTFT p50 {_f(r.ttft_p50)} ms, "
                        f"ITL p50 {_f(r.itl_p50, '.2f')} ms ({r.wall_s:.0f} s wall)",
                        flush=True,
                    )
    names = [load.name for load in loads]
    rows.sort(key=lambda r: (names.index(r.load), r.round, r.tool))
    report(rows, args)
    return 0


def report(rows: list[Figures], args: argparse.Namespace) -> None:
    print()
    print(
        f"injected: TTFT {args.prefill_ms:g} ms, ITL {args.token_interval_ms:g} ms, "
        f"{args.output_tokens} output tokens; {args.duration:g} s measured after "
        f"{args.warmup:g} s warm-up; err = measured - injected"
    )
    print(table(rows, args))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))


if __name__ == "__main__":
    sys.exit(main())
