"""Find the old demos' result folders under some paths and tell their kinds and origins apart.

A multi-agent folder holds a ``summary.json`` in the old Python shape (``runs[]`` with
``collector``/``insight`` objects) or the old Rust shape (``agent_a``/``agent_b``), or only
``run_N/metrics.json`` files when the old run was cut short. A single-agent folder holds a
``metrics.json`` of baseline and chimera results, or ``reports/`` with
``baseline_report*.md``/``chimera_report*.md``/``comparison_report.md``. Chimera's own
``summary.json`` carries ``chimera_version`` and is never taken for an old one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from chimera.legacy.records import Skipped

Shape = Literal["python-multiagent", "python-multiagent-v1", "rust-multiagent", "chimera", "other"]
MAX_JSON_BYTES = 64 * 2**20
RUN_DIR = re.compile(r"^run_(\d+)$")
_SINGLE_MD = re.compile(r"^(baseline|chimera)_report(_run_\d+)?\.md$|^comparison_report\.md$")
_SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "target"})


@dataclass(slots=True)
class Candidate:
    """A folder that holds old results, and what kind it looked like."""

    folder: Path
    kind: Literal["multiagent", "single"]
    shape: Shape | None = None  # multi-agent: the summary's shape, or the runs' when none


@dataclass(slots=True)
class Found:
    candidates: list[Candidate] = field(default_factory=list)
    chimera: list[str] = field(default_factory=list)  # Chimera's own summaries, left alone
    skipped: list[Skipped] = field(default_factory=list)


def load_json(path: Path) -> Any:
    """The file's JSON; ValueError with the reason when it is too big or not JSON."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ValueError(f"larger than {MAX_JSON_BYTES // 2**20} MB")
        return json.loads(path.read_text(encoding="utf-8-sig", errors="replace"))
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg}, line {exc.lineno})") from None


def shape_of(doc: Any) -> Shape:
    """Which tool wrote a summary.json or run_N/metrics.json document."""
    if not isinstance(doc, dict):
        return "other"
    if "chimera_version" in doc or "definitions" in doc:
        return "chimera"
    if "agent_a" in doc and "agent_b" in doc:
        return "rust-multiagent"
    if isinstance(doc.get("collector"), dict) and "config" in doc["collector"]:
        return "rust-multiagent"  # run_N/metrics.json of the Rust demo
    if isinstance(doc.get("collector"), dict) and "collector_execution_time" in doc:
        return "python-multiagent-v1"  # run_N/metrics.json of the first Python demo
    runs = doc.get("runs")
    if isinstance(runs, list) and runs and isinstance(runs[0], dict):
        first = runs[0]
        if "collector" in first or "sequential_estimate_ms" in first:
            return "python-multiagent"
        if "collector_throughput" in first or "sequential_estimated_s" in first:
            return "rust-multiagent"
        if "baseline_throughput" in first or "sequential_estimated_time" in first:
            return "python-multiagent-v1"
    if isinstance(doc.get("collector"), dict) and "concurrency_speedup" in doc:
        return "python-multiagent"  # run_N/metrics.json of the Python demo
    agg = doc.get("aggregate")
    if isinstance(agg, dict) and ("chimera_overrides" in doc or "baseline_throughput" in agg):
        return "python-multiagent-v1"
    if isinstance(agg, dict) and "average_concurrency_speedup" in agg:
        return "python-multiagent" if "generated_at" not in doc else "rust-multiagent"
    return "other"


def run_dirs(folder: Path) -> list[tuple[int, Path]]:
    """The folder's run_N subfolders, in run order."""
    try:
        found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := RUN_DIR.match(p.name))]
    except OSError:
        return []
    return sorted((n, p) for n, p in found if p.is_dir())


def _single_folder(folder: Path, names: set[str]) -> Path | None:
    if folder.name in ("reports", "data"):
        return None  # seen from the configuration folder above
    reports = folder / "reports"
    if reports.is_dir() and any(_SINGLE_MD.match(p.name) for p in reports.iterdir()):
        return folder
    if (folder / "data" / "metrics.json").is_file() and (folder / "reports").is_dir():
        return folder
    if any(_SINGLE_MD.match(n) for n in names) and "summary.json" not in names:
        return folder
    return None


def find(paths: Sequence[Path]) -> Found:
    """Every old result folder under ``paths`` (files or folders), in path order."""
    found = Found()
    seen: set[Path] = set()
    claimed: set[Path] = set()  # run_N folders of a multi-agent folder
    for root in paths:
        start = _start(root)
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            folder = Path(dirpath)
            if folder in seen or folder in claimed:
                continue
            seen.add(folder)
            names = set(filenames)
            if "summary.json" in names:
                _summary(folder, found, claimed)
            else:
                _runs_only(folder, found, claimed)
            if not any(c.folder == folder for c in found.candidates):
                single = _single_folder(folder, names)
                if single is not None:
                    found.candidates.append(Candidate(single, "single"))
            if start != root:
                break  # a file or a run_N folder was given: its own folder only
    return found


def _start(root: Path) -> Path:
    """Where to look from a path given: a file's folder, and a run_N folder's (or a file in
    it) parent when that holds the summary: the folder is what is imported."""
    start = root.parent if root.is_file() else root
    in_run = RUN_DIR.match(start.name) and not (start / "summary.json").is_file()
    parent_holds = (start.parent / "summary.json").is_file() or (start / "metrics.json").is_file()
    return start.parent if in_run and parent_holds else start


def _summary(folder: Path, found: Found, claimed: set[Path]) -> None:
    path = folder / "summary.json"
    try:
        shape = shape_of(load_json(path))
    except ValueError as exc:
        found.skipped.append(Skipped(str(path), str(exc)))
        return
    if shape == "chimera":
        found.chimera.append(str(path))
    elif shape != "other":
        found.candidates.append(Candidate(folder, "multiagent", shape))
        claimed.update(p for _, p in run_dirs(folder))


def _runs_only(folder: Path, found: Found, claimed: set[Path]) -> None:
    """A multi-agent folder whose summary.json is missing: its run_N/metrics.json files."""
    for _, run in run_dirs(folder):
        metrics = run / "metrics.json"
        if not metrics.is_file():
            continue
        try:
            shape = shape_of(load_json(metrics))
        except ValueError as exc:
            found.skipped.append(Skipped(str(metrics), str(exc)))
            continue
        if shape not in ("chimera", "other"):
            found.candidates.append(Candidate(folder, "multiagent", shape))
            claimed.update(p for _, p in run_dirs(folder))
            return
