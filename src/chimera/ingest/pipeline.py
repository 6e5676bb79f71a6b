"""The entry point: paths in, an IngestResult (inventory, skips, facts, stats, findings) out."""

from __future__ import annotations

import posixpath
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from chimera.ingest.facts import Fact, FactBuilder
from chimera.ingest.fields import Classifier
from chimera.ingest.findings import FileView, Finding, sort_findings
from chimera.ingest.findings.claims import claims
from chimera.ingest.findings.files import (
    duplicates,
    encodings,
    error_artifacts,
    reader_notes,
    same_data,
    schema_drift,
)
from chimera.ingest.findings.runs import failures, spread, warmup
from chimera.ingest.findings.summaries import summaries
from chimera.ingest.inventory import Inventory, build_inventory
from chimera.ingest.names import ModelIndex, family_of
from chimera.ingest.readers import FileRead, read_file
from chimera.ingest.records import Artifact, Skipped
from chimera.ingest.settings import AliasSpec, IngestSettings
from chimera.ingest.stats import Stat, compute_stats
from chimera.ingest.walk import display_base, walk


class IngestResult(BaseModel):
    """Everything ingestion learned about a folder; plain records, ready to print or store."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    inventory: Inventory
    artifacts: list[Artifact]
    skipped: list[Skipped]
    findings: list[Finding]
    facts: Annotated[list[Fact], SkipValidation] = Field(repr=False)
    stats: list[Stat]
    unrecognized: dict[str, int] = Field(
        description="numeric keys not in the alias table, with how often they occur (top 40)"
    )
    timings_s: dict[str, float] = Field(default_factory=dict)

    def models(self) -> list[str]:
        """Models with measurements in data files (CSV/JSON)."""
        return sorted(
            {f.model for f in self.facts if f.model and f.recognized and f.origin == "data"}
        )


def _classifier(settings: IngestSettings) -> Classifier:
    aliases: dict[str, tuple[str, str | None]] = {}
    for key, spec in settings.aliases.items():
        if isinstance(spec, AliasSpec):
            aliases[key] = (spec.metric, spec.unit)
        else:
            aliases[key] = (spec, None)
    return Classifier(aliases, settings.config_aliases)


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
    settings = settings or IngestSettings()
    t0 = time.perf_counter()
    roots = [Path(p) for p in paths]
    base = display_base(roots, (cwd or Path.cwd()).resolve())
    walked = walk(roots, settings, base)
    t_walk = time.perf_counter()

    classifier = _classifier(settings)
    builder = FactBuilder(classifier, settings.failure_patterns)

    def is_config_key(label: str) -> bool:
        return classifier.classify(label).role == "config"

    views: list[FileView] = []
    skipped = list(walked.skipped)
    first_by_hash: dict[str, str] = {}
    first_by_content: dict[str, str] = {}
    for c in sorted(walked.candidates, key=lambda c: (c.root_index, c.display)):
        if on_file is not None:
            on_file(c.display)
        got = read_file(c, settings, is_config_key)
        if isinstance(got, Skipped):
            skipped.append(got)
            continue
        views.append(
            _view(c.display, c.size, c.mtime, got, builder, first_by_hash, first_by_content)
        )
    t_read = time.perf_counter()

    index = ModelIndex(builder.models, settings.model_families)
    for view in views:
        kept = []
        for f in view.facts:
            if f.model_from == "field" and f.model is not None:
                f.model = index.canonical(f.model)
            else:
                f.model, f.model_from = index.resolve(f.hints)
                if f.model_from == "unresolved-column":
                    continue  # a Markdown column for something that is not a model
            kept.append(f)
        view.facts = kept
    facts = [f for v in views for f in v.facts]
    stats = compute_stats(facts)
    t_facts = time.perf_counter()

    data_facts = [f for f in facts if f.origin == "data"]
    found: list[Finding] = [
        *duplicates(views, skipped),
        *same_data(views),
        *encodings(views),
        *reader_notes(views),
        *error_artifacts(views),
        *schema_drift(views),
        *failures(views),
        *spread(stats, views),
        *warmup(views),
        *summaries(views),
        *claims(views, data_facts),
    ]
    t_find = time.perf_counter()

    artifacts = [v.artifact for v in views]
    skipped.sort(key=lambda s: s.path)
    inventory = build_inventory(
        artifacts,
        skipped,
        base=str(base),
        roots=[str(r) for r in roots],
        first_n=settings.first_n,
        hidden=walked.hidden,
    )
    unrecognized = Counter(
        f.original_key for f in facts if not f.recognized and f.metric != "failed_run"
    )
    return IngestResult(
        inventory=inventory,
        artifacts=artifacts,
        skipped=skipped,
        findings=sort_findings(found),
        facts=facts,
        stats=stats,
        unrecognized=dict(unrecognized.most_common(40)),
        timings_s={
            "walk": t_walk - t0,
            "read_parse": t_read - t_walk,
            "facts_stats": t_facts - t_read,
            "findings": t_find - t_facts,
            "total": time.perf_counter() - t0,
        },
    )


def _view(
    display: str,
    size: int,
    mtime: float,
    got: FileRead,
    builder: FactBuilder,
    first_by_hash: dict[str, str],
    first_by_content: dict[str, str],
) -> FileView:
    stem = posixpath.splitext(posixpath.basename(display))[0]
    parent = posixpath.basename(posixpath.dirname(display))
    family = family_of(stem, got.format)
    dup = first_by_hash.get(got.sha256)
    if dup is None:
        first_by_hash[got.sha256] = display
        # A report regenerated with a new timestamp says nothing new; a data file that differs
        # only in timestamps is another run (that happened to measure the same), so it counts.
        if got.content_key and got.format in ("markdown", "text"):
            dup = first_by_content.get(got.content_key)
            if dup is None:
                first_by_content[got.content_key] = display
    artifact = Artifact(
        path=display,
        format=got.format,
        bytes=size,
        mtime=mtime,
        encoding=got.encoding,
        sha256=got.sha256,
        family=family,
        records=len(got.parsed.records),
        duplicate_of=dup,
    )
    notes = list(got.parsed.notes)
    if got.long_lines:
        notes.append(
            ("truncated", f"{got.long_lines} line(s) longer than the line limit were not scanned")
        )
    facts: list[Fact] = []
    if dup is None:
        hints = (("path", stem),) + ((("dir", parent),) if parent else ())
        facts = builder.build(got.parsed.records, display, family, hints)
    return FileView(
        artifact=artifact,
        oddities=got.oddities,
        notes=notes,
        schema=got.parsed.schema,
        first_line=got.parsed.first_line,
        content_key=got.content_key,
        facts=facts,
        mentions=got.mentions,
    )
