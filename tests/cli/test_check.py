"""``chimera check``: the seed report's body against the corpus, --json, a person's report
against a small folder, and missing paths as one line with exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., int]
SEED_REPORT = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "chimera_agent_b_report.md"
)
REPORT = """\
# Throughput study

fast:1b leads at 150 tok/s with num_gpu=80; slow:7b reaches 20 tok/s at num_gpu=40.
fast:1b also answers first: a TTFT of 0.11 s against 0.925 s for slow:7b (runs.csv).
We measured 4 runs in total, and slow:7b peaked at 35 tok/s.
"""


@pytest.fixture
def seed_body(tmp_path: Path) -> Path:
    """The LLM's body of the seed report, alone in a Markdown file."""
    if not SEED_REPORT.is_file():
        pytest.skip("../shared/seed/chimera_agent_b_report.md is not beside this checkout")
    text = SEED_REPORT.read_text(encoding="utf-8")
    body = tmp_path / "seed_body.md"
    body.write_text(
        text[text.index("\n---\n") + 5 : text.index("## Workflow Summary")], encoding="utf-8"
    )
    return body


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


def test_seed_body_against_the_corpus_lists_the_invented_numbers(
    cli: Cli, capsys: pytest.CaptureFixture[str], seed_body: Path, corpus: Path
) -> None:
    assert cli("check", str(seed_body), str(corpus)) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.endswith(
        "against 104 files: quality 40/100 (capped: most of its numbers are unsupported (20 of 24))"
    )
    assert "24 numbers checked, 4 grounded, 20 unsupported" in out
    assert "line  18  88  JSON: 88 (88%)" in out
    assert "line  18  88%  JSON: 88 (88%)" in out
    assert "line  19  13  Markdown: 13 (13%)" in out
    assert "line  19  13%  Markdown: 13 (13%)" in out
    assert "nearest facts: " in out and "JSON files / total files analyzed: 42.3 %" in out
    assert "control-token  <unused1933>" in out and "foreign-script  CYRILLIC: атото" in out
    assert "important facts covered 0 of 5" in out
    assert "cap: total 56.4 capped at 40" in out


def test_json_gives_the_score_and_every_claim(
    cli: Cli, capsys: pytest.CaptureFixture[str], seed_body: Path, corpus: Path
) -> None:
    assert cli("check", str(seed_body), str(corpus), "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["quality"]["total"] == 40.0
    assert [c["name"] for c in doc["quality"]["components"]][:2] == ["sections", "grounding"]
    claims = {(c["raw"], c["value"], c["verdict"]) for c in doc["factcheck"]["claims"]}
    assert {
        ("88", 88.0, "unsupported"),
        ("13", 13.0, "unsupported"),
        ("13%", 13.0, "unsupported"),
    } <= claims
    assert ("101", 101.0, "grounded") in claims
    assert {j["kind"] for j in doc["junk"]} == {"control-token", "foreign-script"}


def test_a_persons_report_against_a_small_folder(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path, data: Path
) -> None:
    report = tmp_path / "study.md"
    report.write_text(REPORT, encoding="utf-8")
    assert cli("check", str(report), str(data), "--sections", "", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    unsupported = [c["raw"] for c in doc["factcheck"]["claims"] if c["verdict"] == "unsupported"]
    assert unsupported == ["35 tok/s"]
    assert doc["mentions"]["missing"] == []
    assert doc["quality"]["caps"] == [] and doc["quality"]["total"] >= 65


def test_echoes_are_listed_as_junk(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path, data: Path
) -> None:
    report = tmp_path / "echo.md"
    report.write_text(
        "Aim for 300-400 words. Do not add a title, date or author line: Chimera adds the "
        f"header.\n{REPORT}",
        encoding="utf-8",
    )
    assert cli("check", str(report), str(data)) == 0
    assert "line   1  echo  Aim for 300-400 words. Do not add a title" in capsys.readouterr().out


def test_missing_report_or_data_is_one_line_exit_2(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path, data: Path
) -> None:
    missing = tmp_path / "nope.md"
    assert cli("check", str(missing), str(data)) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {missing}: no such report file; give the Markdown report to check"
    report = tmp_path / "study.md"
    report.write_text(REPORT, encoding="utf-8")
    assert cli("check", str(report), str(tmp_path / "gone")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'gone'}: no such file or directory")
    assert "\n" not in err
