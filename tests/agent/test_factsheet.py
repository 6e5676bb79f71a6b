"""The numbered fact sheet: priorities, ids, the budget, and growth with num_ctx."""

from __future__ import annotations

from pathlib import Path

from chimera.agent.factsheet import build_factsheet, sheet_budget
from chimera.ingest.digest import estimate_tokens
from chimera.ingest.pipeline import ingest_paths


def test_sheet_on_the_corpus_puts_the_fastest_models_and_errors_first(corpus: Path) -> None:
    facts = ingest_paths([corpus])
    sheet = build_factsheet(facts, sheet_budget(2048, 350, 400))
    assert sheet.ids[:3] == ["F1", "F2", "F3"]
    first = sheet.facts
    assert first[0].kind == "inventory" and first[0].text.startswith("Files: 104 read")
    assert first[1].text.startswith("gemma3:270m: best mean throughput 303.9 tok/s")
    kinds = [f.kind for f in first]
    assert kinds.index("finding") < next(i for i, f in enumerate(first) if "worst" in f.text)
    assert first[kinds.index("finding")].severity == "error"
    assert estimate_tokens(sheet.text()) <= sheet_budget(2048, 350, 400) + 20
    assert sheet.text().splitlines()[1].startswith("F2. gemma3:270m")
    assert sheet.get("f2") is first[1] and sheet.get("F99") is None


def test_a_bigger_context_gives_a_bigger_sheet(corpus: Path) -> None:
    facts = ingest_paths([corpus])
    small = build_factsheet(facts, sheet_budget(1024, 350, 400))
    default = build_factsheet(facts, sheet_budget(2048, 350, 400))
    big = build_factsheet(facts, sheet_budget(8192, 350, 400))
    assert len(small.facts) < len(default.facts) < len(big.facts)
    assert big.left_out == 0 and default.left_out > 0
    assert "left out to fit the context" in default.text()


def test_same_data_same_sheet(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        "model,num_gpu,tokens_per_s\nm:1b,80,50.5\nm:1b,40,42.0\nm:1b,80,51.5\n", encoding="utf-8"
    )
    facts = ingest_paths([tmp_path])
    one, two = build_factsheet(facts, 300), build_factsheet(facts, 300)
    assert one == two
    assert "m:1b: best mean throughput 51 tok/s with num_gpu=80 (n=2)." in one.text()
    assert "m:1b: worst mean throughput 42 tok/s with num_gpu=40 (n=1)." in one.text()
