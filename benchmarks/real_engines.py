"""Chimera's figures against real engines: the bundled SmolLM2-135M-Instruct on llama.cpp.

Every server here is a real llama.cpp on loopback with one thread, so that on a 2-core machine
two servers get a core each:

1. two llama.cpp servers (``python -m llama_cpp.server``), one agent each: the speedup must be
   within 1.6-2.05x, every figure possible (efficiency never above 100%), and every agent
   phase must have output tokens;
2. one llama.cpp server for both agents: at most 1.1x with contention flagged, or failed
   calls counted, never a call counted ok with no output;
3. the same two servers with ``--keep-prompt-cache --warmup 0``, as the old tool ran: what
   the servers' prompt caches do to a speedup when the phases send the same prompts and the
   first phase meets cold caches (an impossible figure must be flagged invalid);
4. the decode rate of the project's Ollama-protocol engine server (``python -m
   chimera.testing --protocol ollama --engine llamacpp``) against the in-process engine on
   the same prompt: within 10%;
5. two such engine servers, one agent each: the old tool's dual-Ollama experiment, with real
   inference on one machine.

    python benchmarks/real_engines.py                       # the corpus beside the checkout
    python benchmarks/real_engines.py --runs 3 --num-predict 64 --json figures.json
    python benchmarks/real_engines.py --only 4              # one scenario

Prints one block per scenario. A timing figure from one run on a shared machine is one
sample: run it twice on a quiet machine before quoting it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chimera.agent.personas import get_persona
from chimera.app.multiagent import MultiAgentSettings, run_multiagent
from chimera.backends.base import ChatMessage, GenerationRequest, create_backend, generate
from chimera.bench.results import MultiAgentOutcome
from chimera.bench.scenarios import AgentPlan, ScenarioSpec
from chimera.models import resolve_gguf
from chimera.options import InferenceOptions
from chimera.testing.llamacpp_server import llama_cpp_server
from chimera.testing.process import server_processes

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "banterhearts"
THREADS = "1"


@contextlib.contextmanager
def llama_servers(n: int, model: Path) -> Iterator[list[str]]:
    # n_threads_batch too: llama_cpp.server reads prompts on every core by default, and two
    # servers spinning on both cores slow each other down several times over.
    args = ("--n_threads", THREADS, "--n_threads_batch", THREADS, "--n_ctx", "2048")
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(llama_cpp_server(model, extra_args=args)) for _ in range(n)]


def engine_servers(
    n: int, protocol: str = "ollama"
) -> contextlib.AbstractContextManager[list[str]]:
    """``python -m chimera.testing --engine llamacpp`` processes, one thread each."""
    args = ["--protocol", protocol, "--engine", "llamacpp", "--model", "smollm2"]
    return server_processes(n, [*args, "--threads", THREADS])


def scenario(urls: list[str], backend: str, model: str, num_predict: int) -> ScenarioSpec:
    """Two agents of the same persona and greedy options, so both phases do the same work."""
    options = InferenceOptions(temperature=0.0, num_predict=num_predict, seed=1)
    agents = tuple(
        AgentPlan(
            agent_id=f"agent{i + 1}",
            label=f"Agent {i + 1}",
            persona=get_persona("insight"),
            model=model,
            backend=backend,  # type: ignore[arg-type]
            url=url,
            options=options,
        )
        for i, url in enumerate(urls)
    )
    return ScenarioSpec(name="real_engines", agents=agents)


def session(
    urls: list[str], backend: str, model: str, args: argparse.Namespace, out: Path, **kw: Any
) -> MultiAgentOutcome:
    settings = MultiAgentSettings(
        paths=[args.data],
        scenario=scenario(urls, backend, model, args.num_predict),
        runs=args.runs,
        output_dir=out,
        store=False,
        **kw,
    )
    return asyncio.run(run_multiagent(settings))


def figures(outcome: MultiAgentOutcome) -> dict[str, Any]:
    """What a session measured: per run, and the phases' output tokens."""
    runs = []
    for r in outcome.records:
        f = r.figures
        tokens = [
            a.totals(phase).output_tokens for a in r.agents for phase in ("alone", "together")
        ]
        runs.append(
            {
                "run": r.run_number,
                "status": "ok" if r.ok else "failed",
                "speedup": f.concurrency_speedup if f else None,
                "efficiency_percent": f.efficiency_percent if f else None,
                "slowdowns": f.slowdowns if f else None,
                "contention": f.contention if f else None,
                "valid": r.valid,
                "invalid_reasons": r.invalid_reasons,
                "min_phase_output_tokens": min((t or 0) for t in tokens),
                "errors": [a.error for a in r.agents if a.error],
            }
        )
    valid = [r for r in runs if r["valid"]]
    speedups = [r["speedup"] for r in valid]
    calls_failed: dict[str, int] = {}
    for r in outcome.records:
        for a in r.agents:
            for run in (a.alone, a.together):
                for c in run.calls:
                    if c.error_type:
                        calls_failed[c.error_type] = calls_failed.get(c.error_type, 0) + 1
    return {
        "runs": runs,
        "valid_runs": len(valid),
        "speedup_mean": statistics.fmean(speedups) if speedups else None,
        "speedup_min": min(speedups) if speedups else None,
        "speedup_max": max(speedups) if speedups else None,
        "efficiency_max": max((r["efficiency_percent"] or 0) for r in runs) if runs else None,
        "calls_failed": calls_failed,
    }


def show(title: str, fig: dict[str, Any], goal: str) -> None:
    print(f"\n{title}\n  goal: {goal}")
    for r in fig["runs"]:
        if r["speedup"] is None:
            print(f"  run {r['run']}: failed: {'; '.join(r['errors'])[:200]}")
            continue
        slow = ", ".join(f"{k} {v:.2f}" for k, v in r["slowdowns"].items())
        print(
            f"  run {r['run']}: speedup {r['speedup']:.3f}x, efficiency "
            f"{r['efficiency_percent']:.1f}%, slowdowns {slow}, contention "
            f"{'yes' if r['contention'] else 'no'}, fewest output tokens in a phase "
            f"{r['min_phase_output_tokens']}, {'valid' if r['valid'] else 'INVALID'}"
        )
        for reason in r["invalid_reasons"]:
            print(f"    invalid: {reason[:160]}")
    if fig["speedup_mean"] is not None:
        print(
            f"  valid runs {fig['valid_runs']}: speedup {fig['speedup_mean']:.3f}x "
            f"(min {fig['speedup_min']:.3f}, max {fig['speedup_max']:.3f})"
        )
    if fig["calls_failed"]:
        print(f"  failed calls: {fig['calls_failed']}")
    sys.stdout.flush()


async def decode_rates(url: str, model: Path, num_predict: int, repeats: int) -> dict[str, Any]:
    """The same greedy chat, in-process and through the engine server, ``repeats`` times."""
    options = InferenceOptions(temperature=0.0, num_predict=num_predict, seed=1)
    out: dict[str, list[float]] = {"in_process": [], "engine_server": []}
    async with (
        create_backend(kind="llamacpp") as local,
        create_backend(kind="ollama", url=url) as remote,
    ):
        for i in range(repeats + 1):  # the first round loads both: not counted
            text = f"[{i}] Explain what a KV cache is, in three sentences."
            messages = (ChatMessage(role="user", content=text),)
            # in-process, one thread as the server has (num_thread is a load-time option)
            one_thread = options.model_copy(update={"num_thread": 1})
            for name, backend, model_name, opts in (
                ("in_process", local, str(model), one_thread),
                ("engine_server", remote, "smollm2", options),
            ):
                request = GenerationRequest(model=model_name, messages=messages, options=opts)
                result = await generate(backend, request)
                if i > 0 and result.metrics.decode_tokens_per_s is not None:
                    out[name].append(result.metrics.decode_tokens_per_s)
    local_rate = statistics.median(out["in_process"])
    server_rate = statistics.median(out["engine_server"])
    return {
        "in_process_tok_s": local_rate,
        "engine_server_tok_s": server_rate,
        "ratio": server_rate / local_rate,
        "samples": out,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=CORPUS, help="artifacts the agents analyse")
    p.add_argument("--runs", type=int, default=2, help="measured runs per scenario")
    p.add_argument("--num-predict", type=int, default=64, help="output tokens per call")
    p.add_argument("--only", type=int, nargs="+", choices=[1, 2, 3, 4, 5])
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    if not args.data.exists():
        raise SystemExit(f"error: --data {args.data}: no such folder")
    only = set(args.only or [1, 2, 3, 4, 5])
    model = resolve_gguf("smollm2")
    print(
        f"model {model.name}, {THREADS} thread per server, {args.runs} runs after 1 warm-up, "
        f"num_predict {args.num_predict}, temperature 0; data {args.data}"
    )
    results: dict[str, Any] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if only & {1, 3}:
            with llama_servers(2, model) as urls:
                if 1 in only:
                    fig = figures(session(urls, "openai", "smollm2", args, out / "s1"))
                    results["two_llama_servers"] = fig
                    show("1. two llama.cpp servers, one agent each", fig, "1.6-2.05x, valid")
                if 3 in only:
                    # what the old tool did: no warm-up and the same prompts in both phases
                    # (a warm-up alone warms the cache for both phases and hides the effect)
                    outcome = session(
                        urls, "openai", "smollm2", args, out / "s3", prompt_nonce=False, warmup=0
                    )
                    fig = figures(outcome)
                    results["two_llama_servers_keep_prompt_cache"] = fig
                    show(
                        "3. the same with --keep-prompt-cache --warmup 0 (the old tool's way)",
                        fig,
                        "any efficiency above 100% flagged invalid",
                    )
        if 2 in only:
            with llama_servers(1, model) as urls:
                fig = figures(session(urls * 2, "openai", "smollm2", args, out / "s2"))
                results["one_llama_server"] = fig
                show(
                    "2. one llama.cpp server, both agents",
                    fig,
                    "at most 1.1x with contention, or failed calls counted",
                )
        if 4 in only:
            with engine_servers(1) as urls:
                rates = asyncio.run(decode_rates(urls[0], model, 128, repeats=3))
            results["decode_rates"] = rates
            print(
                "\n4. decode rate, the same greedy 128-token chat (median of 3)\n"
                "  goal: engine server within 10% of in-process\n"
                f"  in-process {rates['in_process_tok_s']:.1f} tok/s, engine server "
                f"{rates['engine_server_tok_s']:.1f} tok/s: ratio {rates['ratio']:.3f}"
            )
        if 5 in only:
            with engine_servers(2) as urls:
                fig = figures(session(urls, "ollama", "smollm2", args, out / "s5"))
            results["two_engine_servers"] = fig
            show(
                "5. two Ollama-protocol engine servers, one agent each (dual-Ollama experiment)",
                fig,
                "1.6-2.05x, valid",
            )
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
