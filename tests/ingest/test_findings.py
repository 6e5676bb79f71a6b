"""Each data-quality finding on a small tree made to show it (and not shown when clean)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chimera.ingest import IngestResult, ingest_paths
from chimera.ingest.findings import Finding
from chimera.ingest.findings.copies import Repeats

Write = Callable[[str, str | bytes], Path]


def _run(tmp_path: Path) -> IngestResult:
    return ingest_paths([tmp_path])


def _kind(r: IngestResult, kind: str) -> list[Finding]:
    return [f for f in r.findings if f.kind == kind]


RUNS = (
    "model,num_ctx,ttft_s,tokens_s,error\n"
    "m:1b,2048,0.10,50.0,\n"
    "m:1b,2048,0.12,52.0,\n"
    "m:1b,2048,0.11,54.0,\n"
    "m:1b,4096,0.20,40.0,\n"
    "m:1b,4096,0.0,0.0,connection refused\n"
)


def test_a_summary_that_follows_from_its_runs_is_not_flagged(write: Write, tmp_path: Path) -> None:
    write("x/bench_runs.csv", RUNS)
    write(
        "x/bench_summary.csv",
        "model,num_ctx,mean_tokens_s,mean_ttft_s,completed\n"
        "m:1b,2048,52.00,0.11,3\nm:1b,4096,40.0,0.2,1\n",
    )
    assert _kind(_run(tmp_path), "summary_mismatch") == []


def test_a_summary_that_counts_a_failed_run_is_flagged(write: Write, tmp_path: Path) -> None:
    write("x/bench_runs.csv", RUNS)
    # 4096: the failed run's zeros were averaged in, and counted as completed
    write(
        "x/bench_summary.csv",
        "model,num_ctx,mean_tokens_s,completed\nm:1b,2048,52.0,3\nm:1b,4096,20.0,2\n",
    )
    [f] = _kind(_run(tmp_path), "summary_mismatch")
    assert f.severity == "error" and f.files == ["x/bench_summary.csv", "x/bench_runs.csv"]
    assert f.title == (
        "x/bench_summary.csv: 2 of 4 summary figures do not follow from x/bench_runs.csv"
    )
    assert f.evidence == [
        "row 2: m:1b [num_ctx=4096] mean tokens_per_s reported 20, recomputed 40 from 1 ok row(s)",
        "row 2: m:1b [num_ctx=4096] reports 2 runs_ok; the rows show 1 (of 2)",
    ]


def test_a_json_summary_block_against_its_own_rows(write: Write, tmp_path: Path) -> None:
    write(
        "t.json",
        '{"successful_tests": 2, "summary": {"avg_generation_time_ms": 100.0},'
        ' "results": [{"generation_time_ms": 100.0, "success": true},'
        ' {"generation_time_ms": 300.0, "success": true}]}',
    )
    [f] = _kind(_run(tmp_path), "summary_mismatch")
    assert f.evidence == [
        "$.summary.avg_generation_time_ms: all models [-] mean latency_ms "
        "reported 100, recomputed 200 from 2 ok row(s)"
    ]


def test_failed_runs_recorded_as_zeros(write: Write, tmp_path: Path) -> None:
    write("x/bench_runs.csv", RUNS)
    [f] = _kind(_run(tmp_path), "failed_as_zeros")
    assert f.evidence == [
        "x/bench_runs.csv: 1 of 5 rows; error: connection refused; recorded as ttft_s=0, tokens_s=0"
    ]


def test_the_same_rows_in_csv_and_json(write: Write, tmp_path: Path) -> None:
    write("b.csv", "test,ms,tokens\na,3089.02,44\nb,3234.48,44\nc,2797.72,40\n")
    write(
        "b.json",
        '{"results": [{"generation_time_ms": 3089.0190601348877, "tokens": 44},'
        ' {"generation_time_ms": 3234.47847366333, "tokens": 44},'
        ' {"generation_time_ms": 2797.722339630127, "tokens": 40}]}',
    )
    write("c.csv", "generation_time_ms,tokens\n3089.02,44\n3234.48,44\n2797.72,40\n")
    [f] = _kind(_run(tmp_path), "same_data")
    assert f.evidence == ["b.json ~ c.csv: 6 of 6 values match (JSON vs CSV)"]


def test_a_cold_first_call_and_model_reloads(write: Write, tmp_path: Path) -> None:
    write(
        "p/prompt_runs.csv",
        "model,ttft_s,tokens_s\nm:1b,29.99,36\nm:1b,0.12,102\nm:1b,0.14,101\nm:1b,0.13,102\n",
    )
    rows = "".join(
        f"{g},{c},{t},{ttft},{load}\n"
        for g, c, t, ttft, load in (
            (99, 1024, 0.2, 2.5, 2.3),
            (99, 1024, 0.8, 0.12, 0.1),
            (99, 2048, 0.2, 2.6, 2.4),
            (99, 2048, 0.8, 0.13, 0.11),
            (40, 1024, 0.8, 0.14, 0.12),
            (40, 2048, 0.8, 0.11, 0.1),
        )
    )
    write("p/sweep.csv", "num_gpu,num_ctx,temperature,ttft_s,load_s\n" + rows)
    [f] = _kind(_run(tmp_path), "warmup_not_excluded")
    assert f.files == ["p/prompt_runs.csv", "p/sweep.csv"]
    assert f.evidence == [
        "p/prompt_runs.csv: m:1b [-] first TTFT 29.99 s vs median 0.13 s of the other 3; "
        "mean 7.595 s with it, 0.13 s without",
        "p/sweep.csv: 2 of 6 runs include a model load (load_s >= 1 s); their TTFT is 2.5-2.6 "
        "s vs median 0.125 s for the others; all have temperature=0.2, so that setting looks "
        "slow only because its runs came first after a reload",
    ]


def test_spread_wider_than_the_mean_not_explained_by_warm_up(write: Write, tmp_path: Path) -> None:
    write("s.csv", "model,latency_ms\nm,1\nm,1\nm,20\nm,1\nm,25\n")
    write(
        "k.json",
        '{"attention": {"mean_time_ms": 24.6, "std_time_ms": 73.2,'
        ' "min_time_ms": 0.17, "max_time_ms": 244.1}}',
    )
    [f] = _kind(_run(tmp_path), "high_spread")
    assert f.evidence == [
        "m [-] latency_ms in s.csv: mean 9.6, std 11.91, min 1, max 25 (n=5)",
        "k.json $.attention: reported std 73.2 ms > mean 24.6 ms, min 0.17, max 244.1",
    ]


def test_schema_drift_within_a_family(write: Write, tmp_path: Path) -> None:
    for i in range(3):
        write(f"r{i}/prompt_suite_runs.csv", f"model,ttft_s,tokens_s\nm,0.{i + 1},5\n")
    write("r3/prompt_suite_runs.csv", "model,ttft_s,tok_s,options\nm,0.1,5,{}\n")
    [f] = _kind(_run(tmp_path), "schema_drift")
    assert f.title.startswith("schema drift in family prompt_suite_runs.csv: 1 of 4 files")
    assert f.evidence == ["r3/prompt_suite_runs.csv: has options, tok_s; lacks tokens_s"]


def test_an_error_message_saved_as_data(write: Write, tmp_path: Path) -> None:
    write("ncu.csv", "==ERROR== the argument for option '--page' is invalid.\n")
    [f] = _kind(_run(tmp_path), "error_artifact")
    assert f.files == ["ncu.csv"]


def test_report_claims_checked_against_the_data(write: Write, tmp_path: Path) -> None:
    write(
        "sweep.csv",
        "model,num_gpu,num_ctx,tokens_s,ttft_s\n"
        "g3:4b,999,4096,101.78,0.143\ng3:4b,80,2048,102.94,0.141\n",
    )
    write(
        "report.md",
        "# g3:4b sweep\n\n| num_gpu | num_ctx | Tokens/s | TTFT (s) |\n"
        "| --- | --- | --- | --- |\n| 999 | 4096 | 102.31 | 0.143 |\n"
        "| 80 | 2048 | 102.94 | 0.14 |\n\n- Peak throughput: 253.9 tok/s\n",
    )
    [f] = _kind(_run(tmp_path), "contradicted_claim")
    assert f.title == (
        "report.md: 2 of 5 checkable numbers disagree with the data for the "
        "same model and configuration"
    )
    assert f.evidence == [
        "table 1 row 1: g3:4b [num_gpu=999, num_ctx=4096] tokens_per_s 102.3 tok/s; data: "
        "101.8 in sweep.csv",
        "line 8: g3:4b [-] max tokens_per_s 253.9 tok/s; data: range 101.8-102.9 over 2 "
        "values in sweep.csv",
    ]


def test_encoding_oddities_are_one_finding(write: Write, tmp_path: Path) -> None:
    write("a.txt", "Temperature: 54.7\xb0C\n".encode("latin-1"))
    write("b.md", b"# T\r\nx\n")
    [f] = _kind(_run(tmp_path), "encoding")
    assert f.severity == "warning" and f.files == ["a.txt", "b.md"]


def test_repeats_groups_copies_and_near_copies_and_names_the_first() -> None:
    rep = Repeats()
    assert rep.file("h1", "a.csv") is None
    assert rep.file("h2", "r1.md", "k") is None
    assert rep.file("h1", "b.csv") == "a.csv"  # the same bytes
    assert rep.file("h3", "r2.md", "k") == "r1.md"  # the same report but for timestamps
    assert rep.file("h2", "r3.md", "k") == "r1.md"  # a byte copy of the first report
    rep.skipped("h1", "c.bin")  # a skipped file still joins its copies
    rep.skipped(None, "d.csv")
    rep.finish()
    dup, near = rep.findings()
    assert (dup.kind, dup.files) == (
        "duplicate_file",
        ["a.csv", "b.csv", "c.bin", "r1.md", "r3.md"],
    )
    assert dup.evidence == ["a.csv = b.csv = c.bin", "r1.md = r3.md"]
    assert (near.kind, near.files) == ("duplicate_content", ["r1.md", "r2.md"])
