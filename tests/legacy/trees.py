"""Hand-written result folders in each old format (and one of Chimera's own), small."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ASKS = (
    "Okay, please provide me with the repository context you're referring to. I need the "
    "details of the model before I can act as InsightAgent."
)
ANSWER = "Throughput was 98.8 tok/s on gemma3 with num_ctx 512, and 4 files were read."
COLLECTOR_PROMPT = "You are DataCollector-9000, a systems analyst tasked with scanning."
INSIGHT_PROMPT = "You are InsightAgent, a Chimera-optimised LLM operations specialist."


def _write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def _py_agent(
    agent_id: str, response: str, tps: float, ttft: float, total: float
) -> dict[str, Any]:
    return {
        "id": agent_id,
        "base_url": "http://localhost:11434"
        if agent_id == "collector"
        else "http://localhost:11435",
        "options": {"num_gpu": 80, "num_ctx": 512, "temperature": 1.0},
        "response": response,
        "metrics": {
            "tokens_generated": 400,
            "throughput_tokens_per_sec": tps,
            "ttft_ms": ttft,
            "total_duration_ms": total,
            "wall_clock_ms": total + 900.0,
        },
    }


def python_run(n: int, wall_ms: float, a_ms: float, b_ms: float, response_b: str) -> dict[str, Any]:
    seq = a_ms + b_ms
    speedup = seq / wall_ms
    return {
        "run_number": n,
        "scenario": "chimera_homo",
        "collector": _py_agent("collector", ANSWER, 44.3, 57.2, a_ms),
        "insight": _py_agent("insight", response_b, 56.8, 13.7, b_ms),
        "concurrent_wall_time_ms": wall_ms,
        "sequential_estimate_ms": seq,
        "concurrency_speedup": speedup,
        "efficiency_percent": speedup / 2 * 100,
        "throughput_delta": 12.5,
        "ttft_delta_ms": -43.5,
    }


def python_multiagent(root: Path, name: str = "chimera-homo_gpu80_ctx512_temp10") -> Path:
    """The old Python demo: summary.json and run_N/ with the agents' responses as Markdown."""
    folder = root / "gemma3_latest" / name
    runs = [
        python_run(1, 12345.3, 8685.2, 11006.0, ASKS),
        python_run(2, 12090.0, 9000.0, 11850.0, ANSWER),
    ]
    agg = {
        "average_concurrency_speedup": sum(r["concurrency_speedup"] for r in runs) / 2,
        "average_efficiency": sum(r["efficiency_percent"] for r in runs) / 2,
        "average_throughput_delta": 12.5,
        "average_ttft_delta_ms": -43.5,
    }
    _write(folder / "summary.json", {"runs": runs, "aggregate": agg})
    _write(folder / "summary.md", "# Summary\n\nSpeedup (avg): 1.650x\n")
    for r in runs:
        d = folder / f"run_{r['run_number']}"
        _write(d / "collector_report.md", r["collector"]["response"])
        _write(d / "insight_report.md", r["insight"]["response"])
        _write(
            d / "combined_report.md",
            f"# Combined Summary\n\nSpeedup: {r['concurrency_speedup']:.3f}x",
        )
    return folder


def _rust_config(agent_id: str, label: str, prompt: str, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": agent_id,
        "label": label,
        "model": "gemma3:latest",
        "base_url": "http://localhost:11434",
        "options": options,
        "prompt": prompt,
    }


def rust_run(
    n: int, speedup: float, efficiency: float, *, ttft: float = 648.4, tps: float = 98.8
) -> dict[str, Any]:
    wall = 10.0
    return {
        "collector_throughput": tps,
        "collector_ttft_ms": ttft,
        "concurrency_speedup": speedup,
        "concurrent_wall_time_s": wall,
        "efficiency_percent": efficiency,
        "insight_throughput": 97.6,
        "insight_ttft_ms": 3973.9,
        "resource_contention_detected": speedup < 1.5,
        "run_number": n,
        "scenario": "baseline_vs_chimera",
        "sequential_estimated_s": speedup * wall,
        "throughput_delta": 97.6 - tps,
        "ttft_delta_ms": ttft - 3973.9,
    }


def _rust_metrics(run: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    def execution(cfg: dict[str, Any], seconds: float, tps: float) -> dict[str, Any]:
        return {
            "config": cfg,
            "execution_time_s": seconds,
            "result": {
                "agent_type": cfg["label"],
                "model": cfg["model"],
                "aggregate_metrics": {
                    "average_tokens_per_second": tps,
                    "average_ttft_ms": 700.0,
                    "eval_duration_ms": 4511.8,
                    "load_duration_ms": 1392.5,
                    "prompt_eval_duration_ms": 315.7,
                    "total_duration_ms": seconds * 1000,
                    "total_tokens_generated": 441,
                },
                "timestamp": "2025-11-12T22:56:27.897659200Z",
            },
        }

    seq = run["sequential_estimated_s"]
    return {
        "collector": execution(a, seq * 0.6, run["collector_throughput"]),
        "insight": execution(b, seq * 0.4, run["insight_throughput"]),
        "run_number": run["run_number"],
        "scenario": run["scenario"],
        "summary": run,
    }


RUST_REPORT = """# Chimera Insight

Model: gemma3:latest
Ollama URL: http://localhost:11434
Configuration: num_gpu=80, num_ctx=1024, temp=0.6
Prompt:
```
You are InsightAgent. Given the repository context described previously, produce a summary.
```

## Metrics
- Throughput: 97.58 tok/s
- TTFT: 3973.96 ms

{body}
"""


def rust_multiagent(
    root: Path,
    name: str = "bvc_gpu80_ctx1024_temp0p6",
    runs: list[dict[str, Any]] | None = None,
    summary: bool = True,
) -> Path:
    """The old Rust demo: summary.json (agent_a/agent_b, flat runs) and run_N/ folders with
    metrics.json and the agents' Markdown reports."""
    folder = root / name
    a = _rust_config("collector", "Baseline Collector", COLLECTOR_PROMPT, {})
    b = _rust_config(
        "insight",
        "Chimera Insight",
        INSIGHT_PROMPT,
        {"num_gpu": 80, "num_ctx": 1024, "temperature": 0.6000000238418579},
    )
    runs = runs if runs is not None else [rust_run(1, 1.55, 77.3), rust_run(2, 1.96, 98.0)]
    if summary:
        _write(
            folder / "summary.json",
            {
                "agent_a": a,
                "agent_b": b,
                "aggregate": {"average_concurrency_speedup": 1.75, "average_efficiency": 87.6},
                "generated_at": "2025-11-12T22:56:27.902651100Z",
                "runs": runs,
                "scenario": "baseline_vs_chimera",
            },
        )
    for r in runs:
        d = folder / f"run_{r['run_number']}"
        _write(d / "metrics.json", _rust_metrics(r, a, b))
        _write(d / "collector_report.md", RUST_REPORT.format(body=""))
        body = (
            "zero files were analyzed, so no performance figures exist."
            if r["run_number"] == 2
            else ""
        )
        _write(d / "insight_report.md", RUST_REPORT.format(body=body))
        _write(d / "combined_report.md", "# Rust Multi-Agent Report - Run 1\n")
    return folder


def python_single(root: Path, name: str = "run_gpu80_ctx512_temp0p8") -> Path:
    """The old Python single-agent demo: data/metrics.json (a list of runs) and reports/."""
    folder = root / name

    def side(kind: str, config: dict[str, Any], tps: float, report: str) -> dict[str, Any]:
        return {
            "report": report,
            "metrics": {
                "agent_type": kind,
                "model": "gemma3:latest",
                "configuration": config,
                "aggregate_metrics": {
                    "total_duration_ms": 26161.6,
                    "total_tokens_generated": 2306,
                    "average_ttft_ms": 1404.5,
                    "average_tokens_per_second": tps,
                },
            },
            "execution_time": 26.79,
            "start_time": "2025-10-09T16:47:12.264961",
        }

    chimera = {"num_gpu": 80, "num_ctx": 512, "temperature": 0.8}
    doc = [
        {
            "run_number": 1,
            "baseline_results": side(
                "baseline", {}, 98.9, "# Report\n\n**Total Files Analyzed:** 0\n"
            ),
            "chimera_results": side("chimera_optimized", chimera, 98.8, f"# Report\n\n{ANSWER}\n"),
        }
    ]
    _write(folder / "data" / "metrics.json", doc)
    _write(
        folder / "reports" / "baseline_report_run_1.md", "# Report\n\n**Total Files Analyzed:** 0\n"
    )
    _write(folder / "reports" / "chimera_report_run_1.md", f"# Report\n\n{ANSWER}\n")
    _write(
        folder / "reports" / "comparison_report.md",
        "# Chimera Agent Performance Comparison Report\n",
    )
    return folder


def markdown_single(root: Path, name: str = "gpu60_ctx1024_temp08") -> Path:
    """A single-agent folder with Markdown reports only: figures from comparison_report.md."""
    folder = root / "python" / "qwen2p5_7b" / name
    _write(
        folder / "reports" / "comparison_report.md",
        "# Chimera Agent Performance Comparison Report\n\n**Model:** qwen2.5:7b  \n**Runs:** 2\n\n"
        "## Run-by-Run Detail\n\n### Run 1\n\n"
        "- Baseline duration: 22.42s  (throughput 82.19 tok/s, TTFT 50.42 ms)\n"
        "- Chimera duration: 60.57s  (throughput 82.21 tok/s, TTFT 136.43 ms)\n\n"
        "### Run 2\n\n"
        "- Baseline duration: 19.81s  (throughput 82.09 tok/s, TTFT 42.31 ms)\n"
        "- Chimera duration: 28.62s  (throughput 0.00 tok/s, TTFT 0.00 ms)\n",
    )
    for n in (1, 2):
        for s in ("baseline", "chimera"):
            _write(folder / "reports" / f"{s}_report_run_{n}.md", f"# {s}\n\n{ANSWER}\n")
    return folder


def rust_single(root: Path, name: str = "gpu80_ctx512_temp0p8") -> Path:
    """The old Rust single-agent demo: metrics.json with baseline and chimera aggregates."""
    folder = root / "rust" / name

    def side(kind: str, config: dict[str, Any]) -> dict[str, Any]:
        return {
            "agent_type": kind,
            "model": "gemma3:latest",
            "configuration": config,
            "aggregate_metrics": {
                "average_tokens_per_second": 0.0,
                "average_ttft_ms": 4907.9,
                "total_duration_ms": 19852.0,
                "total_tokens_generated": 0,
            },
            "runs": 1,
        }

    _write(
        folder / "data" / "metrics.json",
        {
            "baseline": side("Baseline", {}),
            "chimera": side("Chimera", {"num_gpu": 80, "num_ctx": 512}),
            "benchmark_type": "rust_vs_python_agent",
            "language": "rust",
            "timestamp": "2025-11-10T04:20:10.552211200Z",
        },
    )
    _write(folder / "reports" / "baseline_report.md", "# Baseline Agent Report\n\nNothing.\n")
    _write(folder / "reports" / "chimera_report.md", "# Chimera Agent Report\n\nNothing.\n")
    return folder


def chimera_summary(root: Path) -> Path:
    """Chimera's own multiagent summary.json: the old names, honest figures, chimera_version."""
    folder = root / "chimera_multiagent"
    _write(
        folder / "summary.json",
        {
            "chimera_version": "0.1.0",
            "scenario": "chimera_homo",
            "agent_a": {"id": "collector", "model": "m"},
            "agent_b": {"id": "insight", "model": "m"},
            "runs": [
                {
                    "run_number": 1,
                    "concurrency_speedup": 1.02,
                    "efficiency_percent": 51.0,
                    "legacy_concurrency_speedup": 1.75,
                    "concurrent_wall_time_s": 10.0,
                },
            ],
            "aggregate": {"average_concurrency_speedup": 1.02},
            "definitions": {"concurrency_speedup": "measured"},
        },
    )
    _write(folder / "run_1" / "metrics.json", {"chimera_version": "0.1.0", "run_number": 1})
    return folder


def every_kind(root: Path) -> dict[str, Path]:
    """One folder of each kind under ``root``."""
    return {
        "python": python_multiagent(root / "multi" / "python"),
        "rust": rust_multiagent(root / "multi" / "rust"),
        "rust_runs_only": rust_multiagent(
            root / "multi" / "rust",
            "homo_gpu80_ctx512_temp0p8",
            summary=False,
            runs=[rust_run(1, 1.9, 95.0)],
        ),
        "python_single": python_single(root / "single"),
        "markdown_single": markdown_single(root / "single"),
        "rust_single": rust_single(root / "single"),
        "chimera": chimera_summary(root / "new"),
    }


def python_v1_run(n: int, speedup: float | None = 1.83) -> dict[str, Any]:
    """A run of the first Python multi-agent demo (TR110): flat baseline_*/chimera_* figures."""
    run: dict[str, Any] = {
        "run_number": n,
        "collector_ollama_url": "http://localhost:11434",
        "insight_ollama_url": "http://localhost:11435",
        "baseline_throughput": 38.2,
        "chimera_throughput": 44.1,
        "throughput_delta": 5.9,
        "baseline_ttft_ms": 25106.0,
        "chimera_ttft_ms": 544.1,
        "ttft_delta_ms": 24561.9,
        "baseline_duration": 109.93,
        "chimera_duration": 91.61,
        "concurrent_wall_time": 109.93,
        "sequential_estimated_time": 201.54,
        "gpu_memory_peak": None,
        "resource_contention_detected": False,
    }
    if speedup is not None:
        run["concurrency_speedup"] = speedup
    return run


def python_v1_multiagent(root: Path, name: str = "phase_1_test_001", runs: int = 2) -> Path:
    """The first Python multi-agent demo: summary.json (runs, aggregate, scenario,
    chimera_overrides) and run_N/ with metrics.json and the agents' reports."""
    folder = root / name
    overrides = {"num_gpu": 60, "num_ctx": 512, "temperature": 0.8}
    listed = [python_v1_run(n) for n in range(1, runs + 1)]
    _write(
        folder / "summary.json",
        {
            "runs": listed,
            "aggregate": {"average_concurrency_speedup": 1.83, "average_efficiency": 91.6,
                          "baseline_throughput": 38.2, "contention_detected_runs": 0},
            "scenario": "baseline_vs_chimera",
            "chimera_overrides": overrides,
            "chimera_overrides_agent2": {},
            "collector_ollama_url": "http://localhost:11434",
            "insight_ollama_url": "http://localhost:11435",
            "generated_at": "2025-10-09T16:47:12.264961",
        },
    )  # fmt: skip

    def agent(kind: str, config: dict[str, Any], tps: float) -> dict[str, Any]:
        return {
            "agent_type": kind,
            "model": "gemma3:latest",
            "configuration": config,
            "aggregate_metrics": {"total_duration_ms": 108893.9, "total_tokens_generated": 2238,
                                  "average_ttft_ms": 25106.0, "average_tokens_per_second": tps},
            "execution_summary": "Execution not completed",
        }  # fmt: skip

    for r in listed:
        d = folder / f"run_{r['run_number']}"
        doc = {
            "collector": agent("baseline", {}, 38.2),
            "insight": agent("chimera_optimized", overrides, 44.1),
            "summary": r,
            "collector_execution_time": 109.93,
            "insight_execution_time": 91.61,
        }
        _write(d / "metrics.json", doc)
        _write(d / "collector_report.md", "# Technical Report\n\n**Total Files Analyzed:** 0\n")
        _write(d / "insight_report.md", f"# Technical Report\n\n{ANSWER}\n")
        _write(d / "combined_report.md", "# Multi-Agent Analysis - Run 1\n")
    return folder
