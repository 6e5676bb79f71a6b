"""Atomic writes: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chimera.atomic import atomic_writer, write_json, write_text
from chimera.errors import OutputError


def test_write_replaces_whole_file_with_plain_permissions(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.md"
    write_text(target, "old")
    write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    write_json(tmp_path / "m.json", {"a": 1})
    assert (tmp_path / "m.json").read_text(encoding="utf-8") == '{\n  "a": 1\n}\n'


def test_failure_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    write_text(target, "kept")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text(encoding="utf-8") == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_unwritable_place_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write"):
        write_text(blocker / "report.md", "x")
