"""Checking a report against artifacts: the seed report against the corpus, echoes stripped and
counted, the nearest facts of an unsupported number, a Chimera report.md read for its body, and
check_run's use of it (echoes out of the stored body, an empty body failing the run)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chimera.agent.check import (
    assess,
    check_document,
    check_report,
    nearest_facts,
    report_body,
)
from chimera.agent.echo import instruction_texts
from chimera.agent.factcheck import CheckedClaim, KnownNumber, NumberClaim
from chimera.agent.known import known_numbers
from chimera.agent.personas import INSIGHT_AGENT
from chimera.agent.spec import AgentRun, AgentSpec
from chimera.agent.workflow import check_run
from chimera.errors import ConfigError
from chimera.ingest.pipeline import IngestResult, ingest_paths

SEED_REPORT = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "chimera_agent_b_report.md"
)
GOOD = """\
## 1. Executive Summary
fast:1b leads at 150 tok/s with num_gpu=80; slow:7b reaches 20 tok/s at num_gpu=40.

## 4. Key Findings
- fast:1b answers first: a TTFT of 0.11 s against 0.925 s for slow:7b (runs.csv).

## 5. Recommendations
1. Serve fast:1b with num_gpu=80.
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "runs.csv").write_text(
        "model,num_gpu,tokens_per_s,ttft_s\n"
        "fast:1b,80,150.5,0.10\nfast:1b,80,149.5,0.12\n"
        "slow:7b,40,20.5,0.90\nslow:7b,40,19.5,0.95\n",
        encoding="utf-8",
    )
    return folder


def seed_text() -> str:
    if not SEED_REPORT.is_file():
        pytest.skip("../shared/seed/chimera_agent_b_report.md is not beside this checkout")
    return SEED_REPORT.read_text(encoding="utf-8")


# --- the seed report against the corpus ---------------------------------------------------------


def test_seed_report_against_the_corpus(corpus: Path) -> None:
    seed_text()
    result = check_report(SEED_REPORT, [corpus])
    unsupported = [(c.claim.raw, c.claim.line) for c in result.factcheck.unsupported]
    # The invented inventory: 88 JSON files (there are 44) and 13 (13%) Markdown (there are 29).
    # "Markdown: 13" binds the 13 to the Markdown facts, so the finding that happens to say
    # "13 pair(s) of files hold the same data" does not ground it.
    assert {("88", 18), ("88%", 18), ("13", 19), ("13%", 19)} <= set(unsupported)
    assert len(result.factcheck.claims) == 24 and len(result.factcheck.grounded) == 4
    assert [(j.kind, j.line) for j in result.junk] == [
        ("foreign-script", 2),
        ("control-token", 54),
    ]
    q = result.quality
    assert q.total == 40.0  # 56.4 before the cap
    assert q.caps == ["most of its numbers are unsupported (20 of 24)"]
    assert {c.name: c.score for c in q.components} == {
        "sections": 15.0,
        "grounding": 3.3,
        "coverage": 0.0,
        "specificity": 10.0,
        "findings": 5.0,
        "recommendations": 5.0,
        "length": 3.1,
        "repetition": 10.0,
        "echoes": 5.0,
        "junk": 0.0,
    }
    assert result.mentions.missing == [
        "model gemma3:270m",
        "model gemma3:1b-it-qat",
        "model gemma3:latest",
        "finding failure_marked_success",
        "finding summary_mismatch",
    ]


def test_the_nearest_facts_of_an_invented_share(corpus: Path) -> None:
    seed_text()
    result = check_report(SEED_REPORT, [corpus])
    [index] = [i for i, c in enumerate(result.factcheck.claims) if c.claim.raw == "88%"]
    assert "JSON files / total files analyzed: 42.3 %" in result.nearest[index]


# --- assess on a small folder ------------------------------------------------------------------


def facts_and_known(folder: Path) -> tuple[IngestResult, list[KnownNumber]]:
    facts = ingest_paths([folder])
    return facts, known_numbers(facts)


def test_a_grounded_report_on_a_small_folder(data: Path) -> None:
    facts, known = facts_and_known(data)
    result = assess(GOOD, facts, known, instructions=instruction_texts([INSIGHT_AGENT]))
    assert result.factcheck.unsupported == []
    assert result.mentions.entities == [
        "model fast:1b",
        "model slow:7b",
        "metric tokens_per_s",
        "metric ttft_s",
        "config num_gpu",
        "file runs.csv",
    ]
    assert result.junk == [] and result.echoes == []
    assert result.quality.caps == []


def test_echoes_are_stripped_counted_and_listed_as_junk(data: Path) -> None:
    facts, known = facts_and_known(data)
    echo = (
        "Aim for 300-400 words. Do not add a title, date or author line: Chimera adds the header."
    )
    body = f"{echo}\n{GOOD}"
    result = assess(body, facts, known, instructions=instruction_texts([INSIGHT_AGENT]))
    assert result.body == GOOD
    assert [(j.kind, j.evidence, j.line) for j in result.junk] == [("echo", echo, 1)]
    assert result.words_written == len(body.split())
    echoes = next(c for c in result.quality.components if c.name == "echoes")
    assert (echoes.score, echoes.detail) == (2.5, "1 sentence(s) echoed from the instructions")


def test_a_body_that_is_all_echo_is_empty(data: Path) -> None:
    facts, known = facts_and_known(data)
    body = (
        "Aim for 300-400 words. Do not add a title, date or author line: Chimera adds the header."
    )
    result = assess(body, facts, known, instructions=instruction_texts([INSIGHT_AGENT]))
    assert result.empty and result.quality.total == 0.0
    assert result.empty_reason() == (
        "the report body is empty once 1 piece(s) of text echoed from the instructions are removed"
    )


def test_nearest_facts_keep_to_the_claims_unit() -> None:
    known = [
        KnownNumber(0.601, "TTFT", "s"),
        KnownNumber(604, "tokens"),
        KnownNumber(650, "files in a", "files"),
        KnownNumber(610, "throughput", "tok/s"),
    ]
    claim = CheckedClaim(
        NumberClaim(600, "600 ms", "ms", False, "TTFT is 600 ms", 1), "unsupported"
    )
    # 604 files and 610 tok/s are not in the claim's unit; a bare 604 may be.
    assert nearest_facts(claim, known) == ["TTFT: 0.601 s", "tokens: 604"]


def test_the_json_document(data: Path) -> None:
    facts, known = facts_and_known(data)
    doc = check_document(assess(GOOD + "\nIt ran at 999 tok/s.\n", facts, known, instructions=[]))
    assert set(doc) == {"files", "note", "words", "quality", "factcheck", "junk", "mentions"}
    assert {"total", "components", "caps", "deductions"} <= set(doc["quality"])
    claim = next(c for c in doc["factcheck"]["claims"] if c["raw"] == "999 tok/s")
    assert (claim["value"], claim["verdict"], claim["line"]) == (999.0, "unsupported", 10)
    assert claim["nearest"][0] == "fast:1b tokens_per_s [num_gpu=80] max: 150.5 tok/s"


# --- reading a report file ---------------------------------------------------------------------


def test_a_chimera_report_is_read_for_its_body() -> None:
    text = seed_text()
    body = report_body(text)
    assert body.startswith("\nатото\n") and "## Workflow Summary" not in body
    assert body.rstrip().endswith("implement the suggested recommendations.")
    assert report_body("# Notes\n\nJust a report.\n") == "# Notes\n\nJust a report.\n"


def test_missing_paths_are_one_line_naming_them(tmp_path: Path, data: Path) -> None:
    report = tmp_path / "report.md"
    with pytest.raises(ConfigError, match=r"nope\.md: no such report file") as exc:
        check_report(tmp_path / "nope.md", [data])
    assert exc.value.exit_code == 2
    report.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"missing: no such file or directory") as exc:
        check_report(report, [tmp_path / "missing"])
    assert "\n" not in str(exc.value)


def test_a_report_inside_its_data_folder_is_noted(data: Path) -> None:
    report = data / "report.md"
    report.write_text(GOOD, encoding="utf-8")
    assert check_report(report, [data]).note is not None
    assert check_report(report, [data / "runs.csv"]).note is None


# --- check_run ---------------------------------------------------------------------------------


def agent_run(body: str) -> AgentRun:
    spec = AgentSpec(agent_id="insight", label="L", persona=INSIGHT_AGENT, model="m")
    return AgentRun(
        spec=spec, backend="offline", url="", started_at=datetime.now(UTC), report_body=body
    )


def test_check_run_stores_the_body_without_echoes(data: Path) -> None:
    run = agent_run(
        "## 1. Executive Summary\nAim for 300-400 words. Do not add a title, date or author "
        "line: Chimera adds the header.\n" + GOOD.split("\n", 1)[1]
    )
    check_run(run, ingest_paths([data]))
    assert run.report_body == GOOD
    assert [j["kind"] for j in run.junk] == ["echo"]
    assert run.status == "ok" and run.quality is not None
    # A quarter of what the model wrote was the instructions: that alone caps the score.
    assert run.quality.caps == ["echoes the instructions (28% of its words)"]


def test_check_run_fails_a_run_with_an_empty_body(data: Path) -> None:
    run = agent_run("\n")
    check_run(run, ingest_paths([data]))
    assert run.status == "failed" and run.error == "the report body is empty"
    assert run.quality is not None and run.quality.total == 0.0
