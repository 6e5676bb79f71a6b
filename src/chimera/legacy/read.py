"""Old result folders under some paths, read: each with the hash of its files, its kind,
origin and runs; every file that could not be read listed with why, never a crash."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chimera.legacy.common import LegacyFormatError
from chimera.legacy.find import Candidate, find, run_dirs
from chimera.legacy.multiagent import read_multiagent
from chimera.legacy.records import LegacyFolder, Skipped
from chimera.legacy.single import read_single, reports_dir

_READ_SUFFIXES = (".json", ".md")


@dataclass(slots=True)
class ReadResult:
    folders: list[LegacyFolder] = field(default_factory=list)
    chimera: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def folder_files(c: Candidate) -> list[Path]:
    """The files an import reads from a folder (what its identity is made of)."""
    root = c.folder
    if c.kind == "multiagent":
        files = [p for p in (root / "summary.json", root / "summary.md") if p.is_file()]
        for _, run in run_dirs(root):
            files += [p for p in run.rglob("*") if p.is_file() and p.suffix in _READ_SUFFIXES]
    else:
        files = [p for p in (root / "data" / "metrics.json", root / "metrics.json") if p.is_file()]
        files += [p for p in reports_dir(root).glob("*.md") if p.is_file()]
    return sorted(set(files))


def content_hash(root: Path, files: Sequence[Path]) -> str:
    """sha256 over the files' paths (relative to the folder) and bytes: the same folder,
    wherever it lies, hashes the same."""
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def read_paths(paths: Sequence[Path]) -> ReadResult:
    """Every old result folder under ``paths``, read."""
    found = find(paths)
    out = ReadResult(chimera=found.chimera, skipped=list(found.skipped))
    for c in found.candidates:
        try:
            files = folder_files(c)
            digest = content_hash(c.folder, files)
            names = [p.relative_to(c.folder).as_posix() for p in files]
            reader = read_multiagent if c.kind == "multiagent" else read_single
            out.folders.append(reader(c, names, digest))
        except (LegacyFormatError, ValueError) as exc:
            out.skipped.append(Skipped(str(c.folder), str(exc)))
        except OSError as exc:
            out.skipped.append(Skipped(str(c.folder), f"cannot be read ({exc.strerror})"))
    return out
