"""``chimera ingest`` on old demo results: their field names through the alias table (the old
speedup becomes the legacy speedup), a finding and the digest say old results are there, and
Chimera's own summary keeps its measured figures."""

from __future__ import annotations

import json
from pathlib import Path

from chimera.ingest.digest import render_digest
from chimera.ingest.fields import Classifier
from chimera.ingest.pipeline import ingest_paths


def test_the_old_names_are_in_the_alias_table() -> None:
    c = Classifier()
    assert c.classify("concurrency_speedup").name == "legacy_concurrency_speedup"
    assert c.classify("average_concurrency_speedup")[1:4] == (
        "legacy_concurrency_speedup",
        "x",
        "mean",
    )
    assert c.classify("efficiency_percent").name == "legacy_efficiency_percent"
    assert c.classify("throughput_delta").name == "legacy_throughput_delta"
    assert c.classify("ttft_delta_ms")[1:3] == ("legacy_ttft_delta_ms", "ms")
    assert c.classify("sequential_estimate_ms")[1:3] == ("legacy_sequential_estimate_s", "ms")
    assert c.classify("concurrent_wall_time_s").name == "concurrent_wall_s"
    assert c.classify("sequential_estimated_time")[1:3] == ("legacy_sequential_estimate_s", "s")
    assert c.classify("insight_throughput")[1:3] == ("tokens_per_s", "tok/s")
    assert c.classify("baseline_ttft_ms")[1:3] == ("ttft_s", "ms")


def _old_summary(folder: Path) -> None:
    folder.mkdir(parents=True)
    run = {
        "run_number": 1,
        "scenario": "chimera_homo",
        "concurrent_wall_time_ms": 12345.3,
        "sequential_estimate_ms": 19691.2,
        "concurrency_speedup": 1.612,
        "efficiency_percent": 79.75,
        "throughput_delta": 12.49,
        "ttft_delta_ms": -43.49,
    }
    doc = {"runs": [run], "aggregate": {"average_concurrency_speedup": 1.612}}
    (folder / "summary.json").write_text(json.dumps(doc), encoding="utf-8")


def test_ingest_maps_old_fields_and_the_digest_names_old_results(tmp_path: Path) -> None:
    _old_summary(tmp_path / "old")
    result = ingest_paths([tmp_path])
    assert not {"concurrency_speedup", "efficiency_percent", "throughput_delta"} & set(
        result.unrecognized
    )
    metrics = {f.metric for f in result.facts if f.recognized}
    assert {"legacy_concurrency_speedup", "legacy_efficiency_percent"} <= metrics
    assert "concurrency_speedup" not in metrics
    [finding] = [f for f in result.findings if f.kind == "legacy_results"]
    assert finding.files == ["old/summary.json"]
    assert finding.evidence == ["old/summary.json: legacy speedup 1.61x"]
    assert "legacy_results" in render_digest(result)


def test_chimera_own_summary_keeps_its_measured_speedup(tmp_path: Path) -> None:
    doc = {
        "chimera_version": "0.1.0",
        "runs": [
            {
                "run_number": 1,
                "concurrency_speedup": 1.02,
                "legacy_concurrency_speedup": 1.75,
                "efficiency_percent": 51.0,
            }
        ],
    }
    (tmp_path / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    result = ingest_paths([tmp_path])
    by_key = {f.original_key: f.metric for f in result.facts if f.recognized}
    assert by_key["concurrency_speedup"] == "concurrency_speedup"
    assert by_key["efficiency_percent"] == "efficiency_percent"
    assert by_key["legacy_concurrency_speedup"] == "legacy_concurrency_speedup"
    assert not [f for f in result.findings if f.kind == "legacy_results"]
