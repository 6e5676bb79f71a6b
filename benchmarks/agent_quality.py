"""What the agent writes with the bundled SmolLM2-135M-Instruct in-process, measured per seed.

For each seed, one agent run on the corpus beside the checkout (``../shared/corpus/
banterhearts``) through the in-process llama.cpp engine, then per report: grounded and
unsupported numbers, findings the model wrote that cite a real fact, recommendations tied to a
finding, the quality score and its components, echoed instructions, seconds per call, and the
wall time of a whole ``chimera run`` (a child process, model load included). Then a
hand-written noise report and a grounded one scored by the same check, to show the distance.

    python benchmarks/agent_quality.py                          # 3 seeds, the default shape
    python benchmarks/agent_quality.py --shape json --mode full # the other shapes, to compare
    python benchmarks/agent_quality.py --seeds 1 --no-cli       # quicker: no chimera run timing
    python benchmarks/agent_quality.py --backend ollama --shape lines --mode full
                                    # over HTTP: the engine server, Ollama protocol, llama.cpp

Goals for every seed: 5 or more grounded numbers, 3 or more findings citing real facts, at
most 1 unsupported number, no echoed instruction, a whole ``chimera run`` under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chimera.agent.check import assess
from chimera.agent.echo import instruction_texts
from chimera.agent.known import known_numbers
from chimera.agent.personas import BUILTIN, get_persona
from chimera.agent.spec import AgentRun, AgentSpec
from chimera.agent.workflow import run_agent
from chimera.backends.base import EndpointSettings, create_backend
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.options import InferenceOptions
from chimera.testing import TestServer

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "banterhearts"
CHIMERA = Path(sys.executable).with_name("chimera")

NOISE = """## 1. Executive Summary
Chimera, a multi-core engine, is designed to optimise the performance in one CPU. Optimise the
performance in one CPU. Chimera, a multi-core engine, is designed to optimise the performance.

## 2. Data Ingestion Summary
Aim for 300-400 words. Do not add a title, date or author line: Chimera adds the header.

## 3. Performance Analysis
The engine reaches 1200 tok/s and 88% efficiency across 16 cores.

## 4. Key Findings
- Chimera, a multi-core engine, is designed to optimise the performance in one CPU.

## 5. Recommendations
1. Optimise the performance in one CPU.

## 6. Appendix
None.
"""

GROUNDED = """## 1. Executive Summary
Chimera read 104 files (JSON 44, CSV 28, MARKDOWN 29). gemma3:270m is the fastest model at
303.9 tok/s, ahead of gemma3:1b-it-qat at 187.2 tok/s and gemma3:latest at 103.2 tok/s.

## 2. Data Ingestion Summary
- 104 files read, 2 skipped, 6 duplicate copies; three summary files disagree with their rows
  (summary_mismatch), and runs marked successful carry error text (failure_marked_success).

## 3. Performance Analysis
gemma3:latest ranges from 88.9 tok/s (temperature=0.3, top_p=0.9) to 103.2 tok/s (num_gpu=60,
num_ctx=2048); its best mean TTFT is 0.117 s.

## 4. Key Findings
- gemma3:270m leads throughput at 303.9 tok/s with num_gpu=999, num_ctx=4096.
- llama3.1:8b-instruct-q8_0 is the slowest measured at 46.57 tok/s.
- baseline_test_results_1759186372.json: 7 of 8 summary figures do not follow from its rows.

## 5. Recommendations
1. Regenerate summary files from their raw runs.
2. Mark runs that carry error text as failed at the source.
3. Run gemma3:latest with num_gpu=60, num_ctx=2048.

## 6. Appendix
Figures are means over the runs in the data files.
"""


def figures(run: AgentRun) -> dict[str, object]:
    fc, q, s = run.factcheck, run.quality, run.structured
    return {
        "status": run.status + (f" ({run.error})" if run.error else ""),
        "grounded": len(fc.grounded) if fc else 0,
        "unsupported": [c.claim.raw for c in fc.unsupported] if fc else [],
        "findings_citing_facts": s.model_findings if s else 0,
        "statements_kept": sum(1 for f in s.findings if f.statement) if s and not s.fallback else 0,
        "summary_by_model": run.analysis.executive_summary if run.analysis else "",
        "recommendations": len(s.recommendations) if s and not s.fallback else 0,
        "fallback": s.fallback if s else [],
        "rejected": len(s.rejected) if s else 0,
        "echoes": sum(1 for j in run.junk if j["kind"] == "echo"),
        "quality": q.total if q else None,
        "components": {c.name: round(c.score, 1) for c in q.components} if q else {},
        "caps": q.caps if q else [],
        "seconds_per_call": [
            round((c.result.metrics.e2e_ms or 0) / 1000, 2) for c in run.calls if c.result
        ],
        "output_tokens": [c.result.metrics.output_tokens for c in run.calls if c.result],
    }


def cli_seconds(seed: int, out: Path) -> float:
    """Wall time of a whole ``chimera run`` in a child process (imports and load included)."""
    t = time.perf_counter()
    subprocess.run(
        [
            *(str(CHIMERA), "run", str(CORPUS), "--backend", "llamacpp", "--model", "smollm2"),
            *("--seed", str(seed), "--output-dir", str(out), "--no-store", "-q"),
        ],
        check=False,
        capture_output=True,
    )
    return time.perf_counter() - t


async def agent_runs(args: argparse.Namespace, facts: IngestResult) -> list[AgentRun]:
    """The agent on each seed: in-process, or over HTTP through the engine server (Chimera's
    Ollama or OpenAI protocol over the same llama.cpp, one slot, one thread)."""
    async with contextlib.AsyncExitStack() as stack:
        url = None
        if args.backend != "llamacpp":
            server = TestServer(
                protocol=args.backend, engine="llamacpp", model="smollm2", threads=1, parallel=1
            )
            url = (await stack.enter_async_context(server)).url
        endpoint = EndpointSettings(kind=args.backend, url=url)
        backend = await stack.enter_async_context(create_backend(endpoint))
        persona = get_persona(args.persona)
        ctx = None if args.backend == "openai" else args.num_ctx
        runs = []
        for seed in range(1, args.seeds + 1):
            spec = AgentSpec(
                agent_id=persona.name,
                label=f"Chimera {persona.label}",
                persona=persona,
                model="smollm2",
                endpoint=endpoint,
                # the OpenAI API cannot set num_ctx: the engine server's --ctx is 2048
                options=InferenceOptions(seed=seed, num_ctx=ctx),
                analysis_shape=args.shape,
                report_mode=args.mode,
            )
            runs.append(await run_agent(spec, facts, backend))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--shape", choices=["auto", "json", "lines"], default="auto")
    parser.add_argument("--mode", choices=["auto", "compose", "full"], default="auto")
    parser.add_argument(
        "--backend",
        choices=["llamacpp", "ollama", "openai"],
        default="llamacpp",
        help="in-process, or the engine server (Ollama / OpenAI protocol over llama.cpp)",
    )
    parser.add_argument("--persona", default="insight")
    parser.add_argument("--num-ctx", type=int, default=2048)
    parser.add_argument("--no-cli", action="store_true", help="skip the chimera run timing")
    parser.add_argument("--show", action="store_true", help="print each report body")
    args = parser.parse_args()
    facts = ingest_paths([CORPUS])
    t = time.perf_counter()
    runs = asyncio.run(agent_runs(args, facts))
    took = time.perf_counter() - t
    print(
        f"SmolLM2-135M on {args.backend}, persona {args.persona}, shape {args.shape}, "
        f"mode {args.mode}, num_ctx {args.num_ctx}: {len(runs)} run(s) in {took:.1f}s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for seed, run in enumerate(runs, 1):
            row = figures(run)
            if not args.no_cli and args.backend == "llamacpp":
                row["chimera_run_s"] = round(cli_seconds(seed, Path(tmp) / str(seed)), 1)
            print(f"\nseed {seed}:")
            for key, value in row.items():
                print(f"  {key}: {value}")
            if args.show:
                print(run.report_body)
    known = known_numbers(facts)
    for name, body in (("noise", NOISE), ("grounded", GROUNDED)):
        result = assess(body, facts, known, instructions=instruction_texts(BUILTIN.values()))
        fc = result.factcheck
        print(
            f"\nhand-written {name} report: quality {result.quality.total:.1f}, "
            f"{len(fc.grounded)} grounded, {len(fc.unsupported)} unsupported, "
            f"{len(result.echoes)} echoes, caps {result.quality.caps}"
        )


if __name__ == "__main__":
    main()
