"""Finding old result folders: kinds, origins, Chimera's own summary left alone, bad files
skipped and named."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

from chimera.legacy.find import find
from chimera.legacy.read import read_paths


def test_every_kind_and_origin_is_told_apart(tree: dict[str, Path], tmp_path: Path) -> None:
    got = read_paths([tmp_path / "old"])
    by_path = {Path(f.path): f for f in got.folders}
    assert {(f.kind, f.origin, f.fmt) for f in got.folders} == {
        ("legacy-multiagent", "python", "python-multiagent-summary"),
        ("legacy-multiagent", "rust", "rust-multiagent-summary"),
        ("legacy-multiagent", "rust", "rust-multiagent-runs"),
        ("legacy-run", "python", "python-single-metrics"),
        ("legacy-run", "python", "python-single-reports"),
        ("legacy-run", "rust", "rust-single-metrics"),
    }
    assert got.chimera == [str(tree["chimera"] / "summary.json")]
    assert tree["chimera"] not in by_path and not got.skipped
    python = by_path[tree["python"]]
    assert python.model == "gemma3:latest" and python.scenario == "chimera_homo"
    assert python.folder_config == {"num_gpu": 80, "num_ctx": 512, "temperature": 1.0}
    assert [r.run_number for r in python.runs] == [1, 2]
    assert python.runs[0].agents[1].response is not None
    assert python.runs[0].agents[1].persona == "InsightAgent"
    rust = by_path[tree["rust"]]
    assert rust.model == "gemma3:latest" and rust.generated_at
    assert rust.runs[1].agents[1].options["num_ctx"] == 1024
    assert rust.runs[1].agents[0].wall_ms is not None  # from run_2/metrics.json
    # the Rust report's header, prompt and metrics are not the response
    assert rust.runs[0].agents[0].response is None
    assert "zero files" in (rust.runs[1].agents[1].response or "")
    runs_only = by_path[tree["rust_runs_only"]]
    assert runs_only.scenario == "baseline_vs_chimera"  # the run's field wins over the name
    assert [r.legacy_speedup for r in runs_only.runs] == [1.9]
    md = by_path[tree["markdown_single"]]
    assert md.model == "qwen2.5:7b"
    assert [a.throughput for a in md.runs[0].agents] == [82.19, 82.21]


def test_a_single_file_path_finds_its_folder(tree: dict[str, Path]) -> None:
    got = read_paths([tree["python"] / "summary.json"])
    assert [Path(f.path) for f in got.folders] == [tree["python"]]


def test_bad_files_are_skipped_and_named(trees: ModuleType, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text("{not json", encoding="utf-8")
    wrong = trees.python_multiagent(tmp_path / "wrong")
    doc = json.loads((wrong / "summary.json").read_text(encoding="utf-8"))
    doc["runs"][0]["run_number"] = "first"
    (wrong / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    good = trees.rust_multiagent(tmp_path / "good")
    got = read_paths([tmp_path])
    assert [Path(f.path) for f in got.folders] == [good]
    reasons = {Path(s.path).name: s.reason for s in got.skipped}
    assert "not valid JSON" in reasons["summary.json"]
    assert "runs.0.run_number" in reasons[wrong.name] and "summary.json" in reasons[wrong.name]


def test_unrelated_json_is_not_taken_for_old_results(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"runs": [{"model": "m"}]}', encoding="utf-8")
    (tmp_path / "metrics.json").write_text('{"tokens_per_s": 3}', encoding="utf-8")
    found = find([tmp_path])
    assert not found.candidates and not found.chimera and not found.skipped


def test_runs_without_a_summary_and_repeated_numbers_are_all_kept(
    trees: ModuleType, tmp_path: Path
) -> None:
    # a Python folder cut short: run_N/metrics.json only (the old demo wrote one per run)
    cut = tmp_path / "cut"
    for n in (1, 2, 3):
        run = trees.python_run(n, 12000.0, 8000.0, 9000.0, trees.ANSWER)
        (cut / f"run_{n}").mkdir(parents=True)
        (cut / f"run_{n}" / "metrics.json").write_text(json.dumps(run), encoding="utf-8")
    # a Rust summary appended to twice, one run with no number; written with a BOM
    twice = trees.rust_multiagent(tmp_path, "homo_gpu80_ctx512_temp0p8")
    doc = json.loads((twice / "summary.json").read_text(encoding="utf-8"))
    third = dict(doc["runs"][0])
    del third["run_number"]
    doc["runs"] = [*doc["runs"], *doc["runs"], third]
    (twice / "summary.json").write_text("\ufeff" + json.dumps(doc), encoding="utf-8")
    got = {Path(f.path).name: f for f in read_paths([tmp_path]).folders}
    assert [r.run_number for r in got["cut"].runs] == [1, 2, 3]
    assert got["cut"].origin == "python" and got["cut"].fmt == "python-multiagent-runs"
    assert [r.run_number for r in got[twice.name].runs] == [1, 2, 3, 4, 5]
    assert got[twice.name].notes[0] == "run number 1 appears twice; the second is stored as run 3"


def test_a_run_folder_or_file_given_imports_its_whole_folder(tree: dict[str, Path]) -> None:
    for given in (tree["rust"] / "run_2", tree["rust"] / "run_2" / "metrics.json"):
        got = read_paths([given])
        assert [Path(f.path) for f in got.folders] == [tree["rust"]]
        assert len(got.folders[0].runs) == 2


def test_a_rust_summary_without_agents_and_an_empty_one(trees: ModuleType, tmp_path: Path) -> None:
    early = tmp_path / "early_gpu80_ctx512"
    early.mkdir()
    doc = {"runs": [trees.rust_run(1, 1.8, 90.0)], "aggregate": {}, "scenario": "chimera_homo"}
    (early / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    doc = {"runs": [], "aggregate": {"average_concurrency_speedup": 0.0}}
    (empty / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    got = read_paths([tmp_path])
    [folder] = got.folders
    assert folder.origin == "rust" and [a.agent_id for a in folder.runs[0].agents] == [
        "collector",
        "insight",
    ]
    assert [r.legacy_speedup for r in folder.runs] == [1.8]
    assert [(Path(s.path).name, "lists no runs" in s.reason) for s in got.skipped] == [
        ("empty", True)
    ]


def test_options_from_a_comparison_report() -> None:
    from chimera.legacy.single import section_options

    python = (
        "## Configuration Details\n\n### Baseline\n- num_gpu: 80\n- num_ctx: 1024\n"
        "- temperature: 0.8\n\n### Chimera Optimized\n- num_gpu: 60\n- num_ctx: 512\n\n#### x\n"
    )
    rust = (
        "### Baseline\nOllama defaults\n\n### Chimera Optimized\n"
        "num_gpu=60, num_ctx=512, temp=0.8, top_p=default, top_k=default\n\n## Statistical\n"
    )
    assert section_options(python, "baseline") == {
        "num_gpu": 80,
        "num_ctx": 1024,
        "temperature": 0.8,
    }
    assert section_options(python, "chimera") == {"num_gpu": 60, "num_ctx": 512}
    assert section_options(rust, "baseline") == {}
    assert section_options(rust, "chimera") == {"num_gpu": 60, "num_ctx": 512, "temperature": 0.8}


def test_the_first_python_demo(trees: ModuleType, tmp_path: Path) -> None:
    folder = trees.python_v1_multiagent(tmp_path / "comprehensive_test_results")
    cut = trees.python_v1_multiagent(tmp_path / "cut", "results")
    (cut / "summary.json").unlink()  # cut short: run_N/metrics.json only
    early = trees.python_v1_multiagent(tmp_path / "early", "sample_run", runs=1)
    doc = json.loads((early / "summary.json").read_text(encoding="utf-8"))
    doc["runs"] = [trees.python_v1_run(1, speedup=None)]
    del doc["scenario"]
    (early / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    (early / "run_1" / "metrics.json").unlink()  # options then come from the summary
    got = {Path(f.path): f for f in read_paths([tmp_path]).folders}
    v1 = got[folder]
    assert (v1.kind, v1.origin, v1.fmt) == (
        "legacy-multiagent",
        "python",
        "python-multiagent-v1-summary",
    )
    assert v1.model == "gemma3:latest" and v1.scenario == "baseline_vs_chimera"
    run = v1.runs[0]
    assert (run.wall_s, run.sequential_estimate_s, run.legacy_speedup) == (109.93, 201.54, 1.83)
    collector, insight = run.agents
    assert (collector.throughput, collector.ttft_ms, collector.wall_ms) == (38.2, 25106.0, 109930.0)
    assert collector.options == {} and insight.options["num_gpu"] == 60
    assert insight.url == "http://localhost:11435" and insight.tokens == 2238
    assert got[cut].fmt == "python-multiagent-v1-runs" and len(got[cut].runs) == 2
    assert got[early].runs[0].legacy_speedup is None
    assert got[early].runs[0].agents[1].options == {
        "num_gpu": 60,
        "num_ctx": 512,
        "temperature": 0.8,
    }


def test_a_rust_single_agent_file_without_language(trees: ModuleType, tmp_path: Path) -> None:
    folder = trees.rust_single(
        tmp_path / "out"
    )  # under .../rust/: moved where the path says nothing
    moved = tmp_path / "Demo_agent_out"
    folder.rename(moved)
    path = moved / "data" / "metrics.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    del doc["language"]
    doc["baseline"]["system_info"] = {"os": "windows", "rust_version": "1.90.0"}
    path.write_text(json.dumps(doc), encoding="utf-8")
    [got] = read_paths([moved]).folders
    assert got.origin == "rust"
    del doc["baseline"]["system_info"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    [got] = read_paths([moved]).folders
    assert got.origin == "python"  # nothing says Rust: the test fails if the path decided
