"""The real banterhearts corpus: counts, statistics against its own summary files and published
tables, and the findings a careful analyst would raise. Skipped when the corpus is absent."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest

from chimera.ingest import IngestResult
from chimera.ingest.facts import Fact
from chimera.ingest.findings import Finding
from chimera.ingest.stats import Stat, compute_stats

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "banterhearts"


def _by_kind(r: IngestResult, kind: str) -> list[Finding]:
    return [f for f in r.findings if f.kind == kind]


def _text(findings: list[Finding]) -> str:
    return "\n".join(
        f"{f.title}\n" + "\n".join(f.evidence) + "\n" + " ".join(f.files) for f in findings
    )


def _file_stats(r: IngestResult, path: str) -> list[Stat]:
    return compute_stats(f for f in r.facts if f.source == path)


def test_counts_per_type_match_the_folder(corpus_result: IngestResult) -> None:
    inv = corpus_result.inventory
    assert {t: s.count for t, s in inv.types.items()} == {
        "csv": 28,
        "json": 44,
        "markdown": 29,
        "text": 3,
    }
    assert inv.total_files == 106 and inv.ingested == 104
    assert [(s.path, s.reason) for s in corpus_result.skipped] == [
        ("reports/profiling/ncu_ollama.ncu-rep", "binary"),
        ("reports/profiling/ncu_ollama.sqlite.ncu-rep", "binary"),
    ]


@pytest.mark.parametrize("stem", ["gemma3", "gemma3_270m", "gemma3_1b-it-qat"])
def test_param_tuning_recomputes_its_summary(corpus_result: IngestResult, stem: str) -> None:
    raw_path = f"reports/gemma3/{stem}_param_tuning.csv"
    stats = {(s.config_label, s.metric): s for s in _file_stats(corpus_result, raw_path)}
    with (CORPUS / f"reports/gemma3/{stem}_param_tuning_summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        cfg = (
            f"num_gpu={row['num_gpu']}, num_ctx={row['num_ctx']}, temperature={row['temperature']}"
        )
        for column, metric in (
            ("mean_tokens_s", "tokens_per_s"),
            ("mean_ttft_s", "ttft_s"),
            ("mean_load_s", "load_s"),
        ):
            s = stats[(cfg, metric)]
            assert s.model == stem.replace("_", ":", 1) if stem != "gemma3" else "gemma3:latest"
            assert s.mean == pytest.approx(float(row[column]), rel=1e-12), (cfg, metric)
    # configurations whose runs all failed are absent from the summary, and counted by us
    failed = [s for s in stats.values() if s.metric == "tokens_per_s" and s.n == 0]
    assert len(rows) + len(failed) == 36
    if stem == "gemma3_270m":
        assert sorted(s.config_label for s in failed) == [
            "num_gpu=60, num_ctx=1024, temperature=0.2",
            "num_gpu=60, num_ctx=1024, temperature=0.4",
        ]
        assert all(s.n_failed == 1 for s in failed)


def test_ollama_param_tuning_recomputes_its_summary(corpus_result: IngestResult) -> None:
    stats = {
        (s.config_label, s.metric): s
        for s in _file_stats(corpus_result, "csv_data/ollama_param_tuning.csv")
    }
    with (CORPUS / "csv_data/ollama_param_tuning_summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 36
    for row in rows:
        cfg = (
            f"num_gpu={row['num_gpu']}, num_ctx={row['num_ctx']}, temperature={row['temperature']}"
        )
        for column, metric in (
            ("mean_tokens_s", "tokens_per_s"),
            ("mean_ttft_s", "ttft_s"),
            ("mean_load_s", "load_s"),
            ("prompt_eval", "prompt_eval_s"),
            ("eval_s_mean", "eval_s"),
        ):
            assert stats[(cfg, metric)].mean == pytest.approx(float(row[column]), abs=1e-9)


def test_prompt_suite_runs_recompute_their_summaries(corpus_result: IngestResult) -> None:
    dirs = sorted(p.parent for p in (CORPUS / "reports/ollama").glob("*/prompt_suite_runs.csv"))
    assert len(dirs) == 5
    for d in dirs:
        rel = d.relative_to(CORPUS).as_posix()
        summary = json.loads((d / "prompt_suite_summary.json").read_text())
        stats = {
            (s.model, s.metric): s
            for s in _file_stats(corpus_result, f"{rel}/prompt_suite_runs.csv")
        }
        for entry in summary["models"]:
            tokens = stats[(entry["model"], "tokens_per_s")]
            ttft = stats[(entry["model"], "ttft_s")]
            assert tokens.n == entry["completed"]
            assert tokens.n + tokens.n_failed == entry["prompt_count"]
            if entry.get("mean_tokens_s") is None:
                assert tokens.mean is None  # every run failed: nothing to average
                continue
            # the runs file rounds tokens_s to 2 decimals and ttft_s to 6
            assert tokens.mean == pytest.approx(entry["mean_tokens_s"], abs=0.005)
            assert ttft.mean == pytest.approx(entry["mean_ttft_s"], abs=5e-7)


def test_summary_checker_agrees_with_every_named_summary(corpus_result: IngestResult) -> None:
    flagged = {p for f in _by_kind(corpus_result, "summary_mismatch") for p in f.files}
    assert not [
        p for p in flagged if "param_tuning" in p or "prompt_suite" in p or "benchmark" in p
    ]


def test_quantization_stats_match_the_published_table(corpus_result: IngestResult) -> None:
    # Technical_Report_108.md, section 3.2
    published = {
        "llama3.1:8b-instruct-q4_0": (0.097, 0.130, 76.59, 74.63, 78.00),
        "llama3.1:8b-instruct-q5_K_M": (1.354, 5.148, 65.18, 64.88, 65.74),
        "llama3.1:8b-instruct-q8_0": (2.008, 7.718, 46.57, 46.14, 46.84),
    }
    stats = {(s.model, s.metric): s for s in corpus_result.stats if s.source == "quant_bench.csv"}
    for model, (ttft, ttft_p95, tps, tps_p05, tps_p95) in published.items():
        t, r = stats[(model, "ttft_s")], stats[(model, "tokens_per_s")]
        assert (t.n, r.n) == (5, 5)
        assert t.mean == pytest.approx(ttft, abs=5e-4)
        assert t.p95 == pytest.approx(ttft_p95, abs=5e-4)
        assert r.mean == pytest.approx(tps, abs=5e-3)
        assert r.p05 == pytest.approx(tps_p05, abs=5e-3)
        assert r.p95 == pytest.approx(tps_p95, abs=5e-3)


def test_copies_are_found_and_counted_once(corpus_result: IngestResult) -> None:
    [dup] = _by_kind(corpus_result, "duplicate_file")
    for pair in (
        "csv_data/ollama_param_tuning.csv = reports/llama3/ollama_param_tuning.csv",
        "csv_data/ollama_quant_bench.csv = reports/llama3/ollama_quant_bench.csv",
        "reports/profiling/ncu_ollama.ncu-rep = reports/profiling/ncu_ollama.sqlite.ncu-rep",
    ):
        assert pair in dup.evidence
    sources = {f.source for f in corpus_result.facts}
    assert "csv_data/ollama_quant_bench.csv" in sources
    assert "reports/llama3/ollama_quant_bench.csv" not in sources
    [near] = _by_kind(corpus_result, "duplicate_content")
    assert "reports/integration/test_mcp_digest.md" in near.files


def test_same_rows_in_two_formats_are_found(corpus_result: IngestResult) -> None:
    text = _text(_by_kind(corpus_result, "same_data"))
    assert "reports/gemma3/gemma3_baseline.csv ~ reports/gemma3/gemma3_baseline.json" in text
    assert (
        "csv_data/baseline_performance_summary.csv ~ csv_data/baseline_test_results_1759099000.json"
    ) in text


def test_failed_runs_recorded_as_zeros_are_flagged_and_excluded(
    corpus_result: IngestResult,
) -> None:
    [zeros] = _by_kind(corpus_result, "failed_as_zeros")
    for d in ("20251002-151204", "20251002-151446", "20251002-151527", "20251002-151615"):
        assert f"reports/ollama/{d}/prompt_suite_runs.csv" in zeros.files
    assert "reports/ollama/20251008-122701/gemma3_benchmark_runs.csv" in zeros.files
    assert "reports/ollama/20251002-151824/prompt_suite_runs.csv" not in zeros.files
    zero_rates = [f for f in corpus_result.facts if f.metric == "tokens_per_s" and f.value == 0]
    assert zero_rates and all(f.failed for f in zero_rates)
    assert all(
        s.min is None or s.min > 0 for s in corpus_result.stats if s.metric == "tokens_per_s"
    )


def test_errors_marked_as_success_are_caught(corpus_result: IngestResult) -> None:
    [marked] = _by_kind(corpus_result, "failure_marked_success")
    assert marked.severity == "error"
    assert marked.files == ["csv_data/baseline_test_results_1759186372.json"]
    assert "All connection attempts failed" in marked.evidence[0]


def test_summaries_that_disagree_with_their_rows(corpus_result: IngestResult) -> None:
    text = _text(_by_kind(corpus_result, "summary_mismatch"))
    # avg_generation_time_ms repeats the minimum (2527 ms); the five rows average 3204 ms
    assert (
        "avg_generation_time_ms: all models [-] mean latency_ms reported 2527, "
        "recomputed 3204" in text
    )
    assert "$.successful_tests: all models [-] reports 5 runs_ok; the rows show 0" in text
    assert "overall tokens_per_s reported 14.59, recomputed 14.11" in text


def test_warm_up_left_in_the_measurements(corpus_result: IngestResult) -> None:
    text = _text(_by_kind(corpus_result, "warmup_not_excluded"))
    assert (
        "gemma3_benchmark_fixed_runs.csv: gemma3:latest [temperature=0.3, top_p=0.9] "
        "first TTFT 29.99 s" in text
    )
    assert "csv_data/ollama_param_tuning.csv: 12 of 36 runs include a model load" in text
    assert "all have temperature=0.2" in text


def test_other_quality_findings(corpus_result: IngestResult) -> None:
    errs = _text(_by_kind(corpus_result, "error_artifact"))
    assert "reports/profiling/ncu_summary.csv" in errs and "==ERROR==" in errs
    enc = _text(_by_kind(corpus_result, "encoding"))
    assert "reports/llama3/baseline_system_report.txt: not valid UTF-8 (byte 0xB0" in enc
    assert "reports/profiling/ncu_summary.csv: UTF-16 text behind a mangled byte-order mark" in enc
    assert "prompt_suite_lessons_20251002.md: 7 C1 control character(s)" in enc
    drift = _text(_by_kind(corpus_result, "schema_drift"))
    assert "20251002-151204/prompt_suite_summary.json: lacks models[].mean_tokens_s" in drift
    spread = _text(_by_kind(corpus_result, "high_spread"))
    assert (
        "kernel_benchmarks.json $.attention.torch: reported std 73.16 ms > mean 24.62 ms" in spread
    )
    failed = _text(_by_kind(corpus_result, "failed_runs"))
    assert "gemma3_270m_param_tuning.csv: 2 of 36 rows; error: timed out" in failed


def test_report_numbers_that_contradict_the_data(corpus_result: IngestResult) -> None:
    by_file = {f.files[0]: f for f in _by_kind(corpus_result, "contradicted_claim")}
    gemma = "\n".join(by_file["reports/gemma3/Gemma3_Benchmark_Report.md"].evidence)
    assert "gemma3:latest [num_gpu=999, num_ctx=4096, temperature=0.4] tokens_per_s 102.3" in gemma
    digest = "\n".join(by_file["reports/integration/performance_digest.md"].evidence)
    assert "2.008 is the mean ttft_s in ollama_quant_bench.csv: mislabelled?" in digest
    # tables that do restate the data are not accused
    assert "reports/ollama/prompt_suite_lessons_20251002.md" not in by_file
    assert not [p for p in by_file if p.startswith("reports/compilation/conv")]


def test_failed_observations_never_reach_statistics(corpus_result: IngestResult) -> None:
    groups: dict[tuple[object, ...], list[Fact]] = defaultdict(list)
    for f in corpus_result.facts:
        if f.recognized and f.aggregate is None and f.origin != "prose":
            groups[(f.model, f.config, f.metric, f.family, f.origin)].append(f)
    for s in corpus_result.stats:
        group = groups[(s.model, tuple(s.config.items()), s.metric, s.source, s.origin)]
        assert s.n == sum(1 for f in group if not f.failed)
        assert s.n_failed == sum(1 for f in group if f.failed)
        if s.n:
            assert s.mean is not None and math.isfinite(s.mean)
