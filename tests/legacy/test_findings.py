"""Findings on old results: every legacy speedup flagged, impossible figures, responses that
answer nothing, folder names that contradict the options."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from chimera.legacy.findings import answers_nothing, folder_findings, inconsistencies
from chimera.legacy.read import read_paths
from chimera.legacy.records import LegacyAgent, LegacyRun


def _run(speedup: float, efficiency: float, **agent: object) -> LegacyRun:
    a = LegacyAgent("collector", throughput=50.0, ttft_ms=100.0, response="text", tokens=10)
    b = LegacyAgent("insight", **agent)  # type: ignore[arg-type]
    return LegacyRun(1, "chimera_homo", [a, b], "summary.json", wall_s=10.0,
                     sequential_estimate_s=speedup * 10.0, legacy_speedup=speedup,
                     efficiency_percent=efficiency)  # fmt: skip


def test_consistent_figures_raise_nothing() -> None:
    assert inconsistencies(_run(1.6, 80.0, throughput=40.0, ttft_ms=20.0, tokens=5)) == []


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (_run(2.08, 104.0, throughput=40.0, ttft_ms=20.0), "efficiency 104.0% is above 100%"),
        (_run(2.08, 104.0, throughput=40.0, ttft_ms=20.0), "above the agent count (2)"),
        (_run(1.6, 80.0, throughput=40.0, ttft_ms=0.0), "insight: TTFT of 0 ms"),
        (_run(1.6, 80.0, throughput=0.0, ttft_ms=9.0, response="an answer"), "throughput 0"),
        (_run(1.6, 70.0, throughput=40.0, ttft_ms=9.0), "is not speedup 1.60x / 2 x 100"),
    ],
)
def test_impossible_figures_are_named(run: LegacyRun, expected: str) -> None:
    assert any(expected in why for why in inconsistencies(run))


@pytest.mark.parametrize(
    "text",
    [
        "Okay, please provide me with the repository context you're referring to.",
        "**Total Files Analyzed:** 0",
        "The primary finding is a critical data absence: zero files were analyzed.",
        "",
    ],
)
def test_responses_that_answer_nothing(text: str) -> None:
    assert answers_nothing(text) is not None


def test_a_response_that_answers_is_not_flagged(trees: ModuleType) -> None:
    assert answers_nothing(trees.ANSWER) is None
    # the InsightAgent prompt names the repository context; a response quoting it answers
    assert answers_nothing("Given the repository context described previously: 98 tok/s") is None


def test_every_legacy_speedup_is_flagged_with_why(tree: dict[str, Path], tmp_path: Path) -> None:
    for folder in read_paths([tmp_path / "old"]).folders:
        found = {f.kind: f for f in folder_findings(folder)}
        if folder.kind == "legacy-run":
            assert "legacy_speedup" not in found
            continue
        flagged = found["legacy_speedup"]
        assert flagged.severity == "warning"
        assert len(flagged.evidence) == len(folder.runs)
        assert all("not a measurement" in e for e in flagged.evidence)
        how = "WALL time" if folder.origin == "rust" else "SERVER's"
        assert all(how in e for e in flagged.evidence)


def test_the_python_tree_findings(tree: dict[str, Path]) -> None:
    [folder] = read_paths([tree["python"]]).folders
    found = {f.kind: f for f in folder_findings(folder)}
    assert "legacy_inconsistent_figures" not in found
    assert found["legacy_empty_answer"].evidence[0].startswith("run 1 insight:")
    assert "repository context" in found["legacy_empty_answer"].evidence[0]


def test_impossible_rust_figures_and_a_folder_name_that_lies(
    trees: ModuleType, tmp_path: Path
) -> None:
    runs = [trees.rust_run(1, 2.1, 105.0, ttft=0.0), trees.rust_run(2, 1.5, 75.0, tps=0.0)]
    folder_path = trees.rust_multiagent(tmp_path, "bvc_gpu80_ctx512_temp0p6", runs=runs)
    [folder] = read_paths([folder_path]).folders
    found = {f.kind: f for f in folder_findings(folder)}
    bad = found["legacy_inconsistent_figures"]
    assert bad.severity == "error" and "2 of 2 old runs" in bad.title
    assert "efficiency 105.0% is above 100%" in bad.evidence[0]
    assert "speedup 2.10x is above the agent count (2)" in bad.evidence[0]
    assert "collector: TTFT of 0 ms" in bad.evidence[0]
    assert "collector: throughput 0 tok/s" in bad.evidence[1]
    mismatch = found["legacy_config_mismatch"]
    assert mismatch.evidence == ["num_ctx: the folder name says 512, the agents were given 1024"]


def test_the_first_python_demo_summed_wall_times(trees: ModuleType, tmp_path: Path) -> None:
    [folder] = read_paths([trees.python_v1_multiagent(tmp_path)]).folders
    found = {f.kind: f for f in folder_findings(folder)}
    assert (
        "execution times (baseline_duration + chimera_duration)"
        in (found["legacy_speedup"].evidence[0])
    )
    assert found["legacy_empty_answer"].evidence[0].startswith("run 1 collector:")
