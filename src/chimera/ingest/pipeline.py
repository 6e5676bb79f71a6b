"""The entry point: paths in, an IngestResult (inventory, skips, facts, stats, findings) out."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from chimera.ingest.cache import ParseCache
from chimera.ingest.facts import Fact
from chimera.ingest.findings import FileView, Finding, sort_findings
from chimera.ingest.findings.claims import claims
from chimera.ingest.findings.copies import Repeats
from chimera.ingest.findings.files import (
    encodings,
    error_artifacts,
    reader_notes,
    same_data,
    schema_drift,
)
from chimera.ingest.findings.legacy import legacy_results, relabel_chimera
from chimera.ingest.findings.runs import failures, spread, warmup
from chimera.ingest.findings.summaries import summaries
from chimera.ingest.inventory import Inventory, build_inventory
from chimera.ingest.names import ModelIndex
from chimera.ingest.reading import FileResult, read_all
from chimera.ingest.records import Artifact, Hint, Skipped
from chimera.ingest.settings import IngestSettings
from chimera.ingest.stats import Stat, compute_stats
from chimera.ingest.walk import display_base, walk

_NO_MENTIONS: frozenset[str] = frozenset()


class IngestResult(BaseModel):
    """Everything ingestion learned about a folder; plain records, ready to print or store."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    inventory: Inventory
    artifacts: Annotated[list[Artifact], SkipValidation]
    skipped: list[Skipped]
    findings: list[Finding]
    facts: Annotated[list[Fact], SkipValidation] = Field(repr=False)
    stats: list[Stat]
    unrecognized: dict[str, int] = Field(
        description="numeric keys not in the alias table, with how often they occur (top 40)"
    )
    timings_s: dict[str, float] = Field(default_factory=dict)
    cached_files: int = Field(0, description="files whose parse came from the parse cache")

    def models(self) -> list[str]:
        """Models with measurements in data files (CSV/JSON)."""
        return sorted(
            {f.model for f in self.facts if f.model and f.recognized and f.origin == "data"}
        )


def ingest_paths(
    paths: Sequence[Path | str],
    settings: IngestSettings | None = None,
    *,
    on_file: Callable[[str], None] | None = None,
    cwd: Path | None = None,
) -> IngestResult:
    """Walk ``paths``, read every artifact, and derive facts, statistics and findings.

    ``on_file`` (optional) is called with each file's display path before it is read.
    Raises InputFileError only when a given path does not exist; a bad file is a skip.
    """
    return _ingest(paths, settings or IngestSettings(), on_file, cwd)


def _ingest(
    paths: Sequence[Path | str],
    settings: IngestSettings,
    on_file: Callable[[str], None] | None,
    cwd: Path | None,
) -> IngestResult:
    t0 = time.perf_counter()
    roots = [Path(p) for p in paths]
    base = display_base(roots, (cwd or Path.cwd()).resolve())
    walked = walk(roots, settings, base)
    t_walk = time.perf_counter()

    candidates = sorted(walked.candidates, key=lambda c: (c.root_index, c.display))
    walked.candidates = []
    models: set[str] = set()
    views: list[FileView] = []
    skipped = list(walked.skipped)
    repeats = Repeats()
    cache = (
        ParseCache.open(roots, settings) if len(candidates) < settings.parallel_min_files else None
    )
    for r in read_all(candidates, settings, on_file, models, cache):
        if isinstance(r, Skipped):
            skipped.append(r)
            repeats.skipped(r.sha256, r.path)
        else:
            views.append(_view(r, repeats.file(r.sha256, r.display, r.content_key)))
    del candidates
    repeats.finish()
    if cache is not None:
        cache.save()
    t_read = time.perf_counter()

    _resolve_models(views, ModelIndex(models, settings.model_families))
    relabel_chimera(views)
    # same_data before the statistics: its key arrays (5 MB on a tree of 100,000 files) are let
    # go before the facts are grouped; its time still counts as the findings'
    t_same = time.perf_counter()
    same = same_data(views)
    t_same = time.perf_counter() - t_same
    # the facts as one list only once the findings are made: it would add 5 MB to their peak
    stats = compute_stats(f for v in views for f in v.facts)
    t_facts = time.perf_counter()

    found: list[Finding] = [
        *repeats.findings(),
        *same,
        *encodings(views),
        *reader_notes(views),
        *error_artifacts(views),
        *schema_drift(views),
        *failures(views),
        *spread(stats, views),
        *warmup(views),
        *summaries(views),
        *claims(views, (f for v in views for f in v.facts), stats),
        *legacy_results(views),
    ]
    t_find = time.perf_counter()

    artifacts = [v.artifact for v in views]
    facts = _all_facts(views)
    skipped.sort(key=lambda s: s.path)
    inventory = build_inventory(
        artifacts,
        skipped,
        base=str(base),
        roots=[str(r) for r in roots],
        first_n=settings.first_n,
        hidden=walked.hidden,
    )
    unrecognized: Counter[str] = Counter()
    for f in facts:
        if not f.recognized and f.metric != "failed_run":
            unrecognized[f.original_key] += 1
    return IngestResult(
        inventory=inventory,
        artifacts=artifacts,
        skipped=skipped,
        findings=sort_findings(found),
        facts=facts,
        stats=stats,
        unrecognized=dict(unrecognized.most_common(40)),
        cached_files=cache.hits if cache is not None else 0,
        timings_s={
            "walk": t_walk - t0,
            "read_parse": t_read - t_walk,
            "facts_stats": t_facts - t_read - t_same,
            "findings": t_find - t_facts + t_same,
            "total": time.perf_counter() - t0,
        },
    )


def _all_facts(views: list[FileView]) -> list[Fact]:
    """Every view's facts in one list; consumes ``views``, each let go once its facts are in
    (holding the views' lists and the whole list at once cost 12 MB on 100,000 files)."""
    facts: list[Fact] = []
    views.reverse()
    while views:
        facts.extend(views.pop().facts)
    return facts


def _resolve_models(views: list[FileView], index: ModelIndex) -> None:
    """Every fact's model named canonically or resolved from its hints; facts for a Markdown
    column that names no model dropped."""
    for view in views:
        # facts of one row share their model and hints: each row is resolved once
        seen: tuple[str | None, str, tuple[Hint, ...]] | None = None
        resolved: tuple[str | None, str] = (None, "none")
        facts: list[Fact] = []
        for f in view.facts:
            if seen is None or seen != (f.model, f.model_from, f.hints):
                seen = (f.model, f.model_from, f.hints)
                if f.model_from == "field" and f.model is not None:
                    resolved = (index.canonical(f.model), "field")
                else:
                    resolved = index.resolve(f.hints)
            if resolved[1] != "unresolved-column":  # a Markdown column for no model
                facts.append(f.with_model(*resolved))
        view.facts = facts


def _view(r: FileResult, duplicate_of: str | None) -> FileView:
    """The file as the detectors see it; a copy of an earlier file keeps no facts."""
    artifact = Artifact(
        r.display,
        r.format,
        r.size,
        r.mtime,
        r.encoding,
        r.sha256,
        r.family,
        r.n_records,
        duplicate_of,
    )
    return FileView(
        artifact=artifact,
        oddities=r.oddities,
        notes=r.notes,
        schema=r.schema,
        first_line=r.first_line,
        facts=r.facts if duplicate_of is None else [],
        # an empty frozenset is a new 216-byte object per file unless shared (21 MB in 100,000)
        mentions=r.mentions or _NO_MENTIONS,
    )
