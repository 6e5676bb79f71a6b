"""Import a tree of the old demos' results into a throwaway store and print what came in.

Counts the multi-agent runs the tree's summary.json and run_N/metrics.json files hold
(independently of the importer), then imports twice and prints: folders by kind and origin,
runs imported against runs present, old speedups flagged, findings by kind, files skipped,
seconds, and what the second import added (it must add nothing).

    python benchmarks/legacy_import.py path/to/old/results [more paths]
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from chimera.app.importer import import_paths

_RUN = re.compile(r"^run_(\d+)$")


def runs_present(paths: list[Path]) -> int:
    """Old multi-agent runs in the tree: each summary's runs, plus run_N/metrics.json runs of
    folders whose summary does not list them (or that have none)."""
    total = 0
    for root in paths:
        for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
            listed: set[int] = set()
            summary = folder / "summary.json"
            if summary.is_file():
                doc = json.loads(summary.read_text(encoding="utf-8-sig"))
                if (
                    isinstance(doc, dict)
                    and isinstance(doc.get("runs"), list)
                    and ("chimera_version" not in doc)
                ):
                    listed = {r.get("run_number") for r in doc["runs"] if isinstance(r, dict)}
                    total += len(doc["runs"])
            for run in folder.iterdir():
                m = _RUN.match(run.name)
                metrics = run / "metrics.json"
                if m and metrics.is_file() and int(m.group(1)) not in listed:
                    doc = json.loads(metrics.read_text(encoding="utf-8-sig"))
                    if isinstance(doc, dict) and "concurrency_speedup" in json.dumps(doc):
                        total += 1
    return total


def main(args: list[str]) -> int:
    paths = [Path(a) for a in args]
    if not paths or not all(p.exists() for p in paths):
        print(__doc__)
        return 2
    present = runs_present(paths)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runs.db"
        t0 = time.perf_counter()
        report = import_paths(paths, db)
        took = time.perf_counter() - t0
        again = import_paths(paths, db)
        con = sqlite3.connect(db)
        rows = con.execute(
            "SELECT COUNT(*), SUM(legacy_concurrency_speedup IS NOT NULL), "
            "SUM(concurrency_speedup IS NOT NULL) FROM scenario_runs"
        ).fetchone()
        con.close()
    multi = [o for o in report.outcomes if o.folder.kind == "legacy-multiagent"]
    kinds = Counter((o.folder.kind, o.folder.origin) for o in report.outcomes)
    findings = Counter(f.kind for o in report.outcomes for f in o.findings)
    flagged = sum(len(f.evidence) for o in multi for f in o.findings if f.kind == "legacy_speedup")
    print(f"folders: {dict(kinds)}")
    imported = sum(len(o.folder.runs) for o in multi)
    print(f"multi-agent runs: {imported} imported, {present} in the tree")
    print(f"scenario_runs: {rows[0]} rows, {rows[1]} legacy speedups, {rows[2]} measured speedups")
    print(f"old speedups flagged: {flagged}")
    print(f"findings: {dict(findings)}")
    print(f"skipped: {len(report.skipped)}; Chimera's own summaries left: {len(report.chimera)}")
    print(f"import: {took:.2f} s; second import: {Counter(o.status for o in again.outcomes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
