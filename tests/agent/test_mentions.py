"""Mentions: the data entities a report names and the important facts it covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.agent.mentions import find_mentions, model_pattern
from chimera.ingest.pipeline import IngestResult, ingest_paths


@pytest.fixture
def facts(tmp_path: Path) -> IngestResult:
    (tmp_path / "runs_2025.csv").write_text(
        "model,num_gpu,num_ctx,tokens_per_s,ttft_s\n"
        "fast:1b,80,2048,150.5,0.10\nfast:1b,80,2048,149.5,0.12\n"
        "slow:7b,40,2048,20.5,0.90\nslow:7b,40,2048,19.5,0.95\n"
        "mid:3b,60,2048,60.5,0.30\nmid:3b,60,2048,59.5,0.35\n"
        "tiny:270m,99,1024,300.5,0.05\ntiny:270m,99,1024,299.5,0.06\n",
        encoding="utf-8",
    )
    return ingest_paths([tmp_path])


def test_entities_named_in_a_report(facts: IngestResult) -> None:
    text = (
        "tiny:270m leads at 300 tok/s with num_gpu=99; Fast 1B follows. "
        "Time to first token is lowest for tiny:270m (see runs_2025.csv)."
    )
    assert find_mentions(text, facts).entities == [
        "model fast:1b",
        "model tiny:270m",
        "metric tokens_per_s",
        "metric ttft_s",
        "config num_gpu",
        "file runs_2025.csv",
    ]


def test_everyday_words_are_not_entities(facts: IngestResult) -> None:
    text = "Chimera, a multi-core engine, optimises the performance in one CPU and GPU context."
    assert find_mentions(text, facts).entities == []


def test_coverage_of_the_top_models(facts: IngestResult) -> None:
    mentions = find_mentions("tiny:270m and mid:3b", facts)
    assert mentions.important == ["model tiny:270m", "model fast:1b", "model mid:3b"]
    assert mentions.covered == ["model tiny:270m", "model mid:3b"]
    assert mentions.missing == ["model fast:1b"]


def test_coverage_of_error_findings_on_the_corpus(corpus: Path) -> None:
    facts = ingest_paths([corpus])
    important = find_mentions("", facts).important
    assert important[3:] == ["finding failure_marked_success", "finding summary_mismatch"]
    said = (
        "Summary figures in three files do not follow from their rows. "
        "Some runs were marked successful although they carry error text."
    )
    assert find_mentions(said, facts).covered == important[3:]
    by_file = find_mentions("See baseline_test_results_1759098967.json.", facts)
    assert by_file.covered == ["finding summary_mismatch"]


def test_how_models_are_written() -> None:
    assert model_pattern("gemma3:270m").search("gemma 3 270m and more")
    assert model_pattern("gemma3:270m").search("gemma3_270m")
    latest = model_pattern("gemma3:latest")
    assert latest.search("gemma3 is fast") and latest.search("gemma3:latest")
    assert not latest.search("gemma3:270m") and not latest.search("gemma3 1b")
    assert not model_pattern("gemma3:270m").search("gemma3:2700m")
