"""The walk: order, display paths, hidden entries, symlinks, skips that are not files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chimera.errors import InputFileError
from chimera.ingest.settings import IngestSettings
from chimera.ingest.walk import display_base, walk


def test_walk_lists_sorted_files_with_extension_types(tmp_path: Path) -> None:
    for rel in ("b/2.json", "a/1.csv", "a/z.md", "notes", ".git/config", "a/.hidden.csv", "run.py"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    w = walk([tmp_path], IngestSettings(), tmp_path)
    got = sorted((c.display, c.format) for c in w.candidates)
    assert got == [
        ("a/1.csv", "csv"),
        ("a/z.md", "markdown"),
        ("b/2.json", "json"),
        ("notes", None),
    ]
    assert [(s.path, s.reason) for s in w.skipped] == [("run.py", "unsupported_type")]
    assert w.hidden == 2  # .git and .hidden.csv


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_directories_are_followed_once(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "r.csv").write_text("x")
    (tmp_path / "alias").symlink_to(tmp_path / "data", target_is_directory=True)
    (tmp_path / "data" / "up").symlink_to(tmp_path, target_is_directory=True)
    w = walk([tmp_path], IngestSettings(), tmp_path)
    assert [c.display for c in w.candidates] == ["alias/r.csv"]
    reasons = {s.path: (s.reason, s.detail) for s in w.skipped}
    assert reasons["alias/up"][0] == "symlink_loop" and "above it" in reasons["alias/up"][1]
    assert reasons["data"] == ("symlink_loop", "directory already scanned as 'alias'")
    w2 = walk([tmp_path], IngestSettings(follow_symlinks=False), tmp_path)
    assert [c.display for c in w2.candidates] == ["data/r.csv"]


def test_a_missing_root_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope: no such file or directory; check the path"):
        walk([tmp_path / "nope"], IngestSettings(), tmp_path)


def test_display_base(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert display_base([tmp_path / "a"], Path("/")) == Path("/")
    assert display_base([tmp_path / "a"], tmp_path / "elsewhere") == (tmp_path / "a").resolve()
    assert display_base([tmp_path / "a", tmp_path / "b"], tmp_path / "x") == tmp_path.resolve()
