"""Ingestion figures: time and peak memory (not a test; prints numbers).

    .venv/bin/python benchmarks/ingest_bench.py [--many 100000] [--skip-hostile]

Each scenario with a guard prints whether it held ("guard"): a regression guard, not a race.
The pipeline on the corpus cold under 150 ms; 100,000 small files at 5,000 files/s or more
under 500 MB peak RSS. Timings depend on the machine and what else it runs: read them from a
quiet machine.

Scenarios, each in its own process so peak RSS is its own:
  corpus   ../shared/corpus/banterhearts: the naive pattern the old agent used (glob per type,
           pandas.read_csv / json.load per file into records; stdlib csv when pandas is absent)
           side by side with our walk-and-parse stage, then the whole pipeline (facts,
           statistics, findings, digest), best of several runs. Each of ours twice: cold (the
           parse cache off: every file read and parsed) and warm (the parse cache filled by an
           earlier run and the files unchanged, as when a folder is ingested again).
  hostile  the issue's hostile tree (tests/ingest/hostile.py), including a 50 MB line.
  many     N small artifacts (CSV runs, JSON results, Markdown tables): files per second.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import importlib.util
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus" / "banterhearts"
GUARD_PIPELINE_MS = 150.0  # the corpus through the whole pipeline, cold
GUARD_FILES_PER_S = 5000.0  # the many-files tree (100,000 by default)
GUARD_PEAK_MB = 500.0


def _hostile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hostile", REPO / "tests/ingest/hostile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def naive_records(root: Path) -> int:
    """The old agent's pattern: glob each type, parse CSV and JSON per file into records."""
    try:
        import pandas as pd
    except ImportError:
        pd = None
    n = 0
    for p in sorted(root.rglob("*.csv")):
        try:
            if pd is not None:
                n += len(pd.read_csv(p).to_dict("records"))
            else:
                with p.open(newline="", encoding="utf-8", errors="replace") as fh:
                    n += len(list(csv.DictReader(fh)))
        except Exception:
            pass
    for p in sorted(root.rglob("*.json")):
        try:
            with p.open(encoding="utf-8") as fh:
                doc = json.load(fh)
            n += len(doc) if isinstance(doc, list) else 1
        except Exception:
            pass
    n += len(sorted(root.rglob("*.md")))
    return n


def walk_and_parse(root: Path) -> int:
    """Our first stage alone, and exactly it: the walk (stat, type by extension, skips), then per
    file: size cap, read, content hash, decoding with its encoding checks, sniffing, and the
    format's parse into raw records (CSV rows, JSON objects, Markdown table rows and labelled
    numbers, JSONL lines). Not included: facts (field classification, units, models), the
    report keys used by findings, statistics, findings. One classifier per call, as per run."""
    from chimera.ingest.fields import Classifier
    from chimera.ingest.readers import read_file
    from chimera.ingest.readers.prose import ConfigWords
    from chimera.ingest.settings import IngestSettings
    from chimera.ingest.walk import walk

    settings = IngestSettings()
    cls = Classifier()
    words = ConfigWords(lambda k: cls.classify(k).role == "config", cls.config_aliases)
    n = 0
    for c in walk([root], settings, root).candidates:
        got = read_file(c, settings, words)
        n += len(getattr(getattr(got, "parsed", None), "records", ()))
    return n


def cold_floor(root: Path) -> int:
    """What any cold read of the tree costs in CPython before a parser of ours runs: os.walk
    with a stat per file, the reads, sha256, UTF-8 decoding, and the C parsers of csv and json
    (no Markdown parsed, no records built). Shows how close to 10x a cold parse can come."""
    n = 0
    # plain os calls on purpose: the floor takes the cheapest primitives (Path objects cost more)
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)  # noqa: PTH118
            os.stat(path)  # noqa: PTH116
            with open(path, "rb") as fh:  # noqa: PTH123
                data = fh.read()
            hashlib.sha256(data).hexdigest()
            text = data.decode("utf-8", "replace")
            if name.endswith(".csv"):
                n += sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
            elif name.endswith(".json"):
                with contextlib.suppress(ValueError):
                    json.loads(text)
    return n


def walk_and_parse_cached(root: Path) -> int:
    """The same stage through the parse cache (the walk, one cache load, a stat-signature check
    per file; a file whose signature changed is read and parsed as above)."""
    from chimera.ingest.cache import ParseCache
    from chimera.ingest.reading import Reader
    from chimera.ingest.settings import IngestSettings
    from chimera.ingest.walk import walk

    settings = IngestSettings()
    reader = Reader(settings)
    cache = ParseCache.open([root], settings)
    assert cache is not None
    n = 0
    for c in walk([root], settings, root).candidates:
        got = cache.fetch(c, reader.parse)
        if isinstance(got, tuple):
            n += len(got[0].parsed.records)
    cache.save()
    return n


def scenario_corpus() -> dict[str, object]:
    from chimera.ingest import ingest_paths
    from chimera.ingest.digest import render_digest
    from chimera.ingest.settings import IngestSettings

    root = CORPUS.resolve()
    cold, warm = IngestSettings(cache=False), IngestSettings()
    naive_records(root)
    walk_and_parse(root)  # warm the page cache and imports for both
    assert walk_and_parse_cached(root) == walk_and_parse(root)  # fills the cache, same records
    try:
        import pandas  # noqa: F401

        naive_kind = "pandas.read_csv + json.load"
    except ImportError:
        naive_kind = "csv.DictReader + json.load (pandas not installed)"
    naive = _best(lambda: naive_records(root), 7)
    ours = _best(lambda: walk_and_parse(root), 7)
    ours_warm = _best(lambda: walk_and_parse_cached(root), 7)
    floor = _best(lambda: cold_floor(root), 7)
    whole = _best(lambda: render_digest(ingest_paths([root], cold)), 7)
    render_digest(ingest_paths([root], warm))  # fills the pipeline's cache
    whole_warm = _best(lambda: render_digest(ingest_paths([root], warm)), 7)
    r = ingest_paths([root], cold)
    return {
        "files": r.inventory.total_files,
        "naive_pattern": naive_kind,
        "naive_ms": round(naive * 1000, 1),
        "walk_and_parse_ms": round(ours * 1000, 1),
        "speedup_vs_naive": round(naive / ours, 2),
        "cold_floor_ms": round(floor * 1000, 1),
        "walk_and_parse_cached_ms": round(ours_warm * 1000, 1),
        "speedup_cached_vs_naive": round(naive / ours_warm, 2),
        "pipeline_ms": round(whole * 1000, 1),
        "pipeline_cached_ms": round(whole_warm * 1000, 1),
        "stages_ms": {k: round(v * 1000, 1) for k, v in r.timings_s.items()},
        "peak_rss_mb": round(_peak_mb(), 1),
        "guard": {"pipeline_ms_max": GUARD_PIPELINE_MS, "held": whole * 1000 <= GUARD_PIPELINE_MS},
    }


def scenario_hostile() -> dict[str, object]:
    from chimera.ingest import ingest_paths

    with tempfile.TemporaryDirectory() as tmp:
        d = _hostile().build_hostile_tree(Path(tmp))
        (d / "noperm.csv").chmod(0o600)
        t = time.perf_counter()
        r = ingest_paths([d])
        took = time.perf_counter() - t
    return {
        "files": r.inventory.total_files,
        "skipped": len(r.skipped),
        "seconds": round(took, 3),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def scenario_many(n: int) -> dict[str, object]:
    from chimera.ingest import ingest_paths

    with tempfile.TemporaryDirectory() as tmp:
        base = _hostile().build_many(Path(tmp), n)
        before = _peak_mb()
        t = time.perf_counter()
        r = ingest_paths([base])
        took = time.perf_counter() - t
    rate, peak = r.inventory.total_files / took, _peak_mb()
    return {
        "files": r.inventory.total_files,
        "facts": len(r.facts),
        "stats": len(r.stats),
        "findings": len(r.findings),
        "seconds": round(took, 2),
        "files_per_s": round(rate),
        "stages_s": {k: round(v, 2) for k, v in r.timings_s.items()},
        "peak_rss_mb": round(peak, 1),
        "rss_before_mb": round(before, 1),
        "guard": {
            "files_per_s_min": GUARD_FILES_PER_S,
            "peak_rss_mb_max": GUARD_PEAK_MB,
            "held": rate >= GUARD_FILES_PER_S and peak <= GUARD_PEAK_MB,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenario", choices=("corpus", "hostile", "many"))
    ap.add_argument("--many", type=int, default=100_000, help="files in the many-files tree")
    ap.add_argument("--skip-hostile", action="store_true")
    args = ap.parse_args()
    # the parse cache goes to a scratch directory, never the user's
    os.environ["CHIMERA_CACHE_DIR"] = tempfile.mkdtemp(prefix="chimera-bench-cache-")
    if args.scenario:
        out = {
            "corpus": scenario_corpus,
            "hostile": scenario_hostile,
            "many": lambda: scenario_many(args.many),
        }[args.scenario]()
        print(json.dumps(out))
        return
    for name in ("corpus", "hostile", "many"):
        if name == "corpus" and not CORPUS.is_dir():
            print("corpus: ../shared/corpus/banterhearts not found, skipped")
            continue
        if name == "hostile" and args.skip_hostile:
            continue
        cmd = [sys.executable, __file__, "--scenario", name, "--many", str(args.many)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(f"{name}: failed\n{res.stderr}")
            continue
        print(f"{name}: {res.stdout.strip()}")


if __name__ == "__main__":
    main()
