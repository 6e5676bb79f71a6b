"""The inventory and the old agent's "Data summary" block."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from chimera.ingest import IngestResult, IngestSettings, ingest_paths
from chimera.ingest.inventory import data_summary_block

Write = Callable[[str, str | bytes], Path]

SEED_BLOCK_SHAPE = """Total files analyzed: 104

CSV Files (28)
  - csv_data/baseline_performance_summary.csv
  - csv_data/ollama_param_tuning.csv
  - csv_data/ollama_param_tuning_summary.csv
  - csv_data/ollama_quant_bench.csv
  - reports/gemma3/gemma3_1b-it-qat_baseline.csv
  ... and 23 more
  Latest modified: """


def test_data_summary_block_has_the_old_shape(corpus_result: IngestResult) -> None:
    block = data_summary_block(corpus_result.inventory)
    assert block.startswith(SEED_BLOCK_SHAPE)
    sections = [line for line in block.splitlines() if line.endswith(")") and "Files (" in line]
    assert sections == [
        "CSV Files (28)",
        "JSON Files (44)",
        "MARKDOWN Files (29)",
        "TEXT Files (3)",
    ]
    assert block.count("  Latest modified: ") == 4
    assert "  ... and 39 more\n" in block and "  ... and 24 more\n" in block


def test_counts_bytes_directories_and_latest(write: Write, tmp_path: Path) -> None:
    a = write("a/x.csv", "model,tokens_s\nm,1\n")
    write("a/y.json", '{"tokens_s": 2}')
    b = write("b/z.csv", "model,tokens_s\nm,3\n")
    write("b/pic.png", b"\x89PNG\x00\x00\x00")
    os.utime(a, (1_700_000_000, 1_700_000_000))
    os.utime(b, (1_760_000_000, 1_760_000_000))
    r = ingest_paths([tmp_path], IngestSettings(first_n=1))
    inv = r.inventory
    assert (inv.total_files, inv.ingested, inv.skipped) == (4, 3, 1)
    assert inv.types["csv"].count == 2 and inv.types["csv"].first == ["a/x.csv"]
    assert inv.types["csv"].latest_modified == "2025-10-09 08:53:20 UTC"
    assert inv.types["csv"].bytes == a.stat().st_size + b.stat().st_size
    assert [(d.path, d.files, d.types) for d in inv.directories] == [
        ("a", 2, {"csv": 1, "json": 1}),
        ("b", 1, {"csv": 1}),
    ]
    assert inv.skipped_by_reason == {"binary": 1}
    block = data_summary_block(inv)
    assert block.splitlines()[:6] == [
        "Total files analyzed: 3",
        "",
        "CSV Files (2)",
        "  - a/x.csv",
        "  ... and 1 more",
        "  Latest modified: 2025-10-09 08:53:20 UTC",
    ]


def test_roots_keep_their_order_and_paths_are_relative_to_the_cwd(
    write: Write, tmp_path: Path
) -> None:
    write("reports/r.csv", "model,tokens_s\nm,1\n")
    write("csv_data/c.csv", "model,tokens_s\nm,2\n")
    r = ingest_paths([tmp_path / "reports", tmp_path / "csv_data"], cwd=tmp_path)
    assert r.inventory.types["csv"].first == ["reports/r.csv", "csv_data/c.csv"]
