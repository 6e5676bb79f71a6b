"""Stage one: every candidate file read, parsed and turned into facts (in parallel when big).

Each file is independent here, so a large tree is split into chunks read by forked worker
processes; their facts come back as plain tuples (a third of the cost of pickling the
dataclasses). Deduplication needs the files in order, so it happens after, in the caller.
"""

from __future__ import annotations

import multiprocessing
import os
import posixpath
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from chimera.ingest.cache import ParseCache, ReadOut
from chimera.ingest.facts import Fact, FactBuilder
from chimera.ingest.fields import Classifier
from chimera.ingest.names import family_of
from chimera.ingest.readers import FileRead, read_file, report_keys
from chimera.ingest.readers.prose import ConfigWords
from chimera.ingest.records import Format, Skipped
from chimera.ingest.settings import AliasSpec, IngestSettings
from chimera.ingest.walk import Candidate

_CHUNKS_PER_WORKER = 48  # small chunks: less waiting in memory between worker and parent
_NO_NOTES: list[tuple[str, str]] = []  # shared by the files without notes (never mutated)


@dataclass(slots=True)
class FileResult:
    """One readable file: what describes it, and its facts (before deduplication)."""

    display: str
    size: int
    mtime: float
    format: Format
    encoding: str
    sha256: str
    content_key: str
    family: str
    n_records: int
    oddities: tuple[str, ...]
    notes: list[tuple[str, str]]
    schema: tuple[str, ...]
    first_line: str
    mentions: frozenset[str]
    facts: list[Fact] = field(default_factory=list)


def classifier_for(settings: IngestSettings) -> Classifier:
    """The alias table extended by the settings."""
    aliases: dict[str, tuple[str, str | None]] = {}
    for key, spec in settings.aliases.items():
        aliases[key] = (spec.metric, spec.unit) if isinstance(spec, AliasSpec) else (spec, None)
    return Classifier(aliases, settings.config_aliases)


class Reader:
    """Reads files with one classifier and fact builder (one per process), through the parse
    cache when there is one."""

    def __init__(self, settings: IngestSettings, cache: ParseCache | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.classifier = classifier_for(settings)
        self.builder = FactBuilder(self.classifier, settings.failure_patterns)

        def config_key(label: str) -> bool:
            return self.classifier.classify(label).role == "config"

        self.words = ConfigWords(config_key, self.classifier.config_aliases)
        self._schemas: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per layout

    def read(self, c: Candidate) -> FileResult | Skipped:
        out = self.parse(c) if self.cache is None else self.cache.fetch(c, self.parse)
        if isinstance(out, Skipped):
            return out
        return self._result(c, *out)

    def parse(self, c: Candidate) -> ReadOut:
        """``c`` read and parsed, with the keys the report checks use (the cacheable part)."""
        got = read_file(c, self.settings, self.words)
        if isinstance(got, Skipped):
            return got
        content_key, mentions = report_keys(got.format, got.text)
        got.text = ""  # let the decoded text go
        return got, content_key, mentions

    def _result(
        self, c: Candidate, got: FileRead, content_key: str, mentions: frozenset[str]
    ) -> FileResult:
        display = c.display
        stem = posixpath.splitext(posixpath.basename(display))[0]
        parent = posixpath.basename(posixpath.dirname(display))
        family = family_of(stem, got.format)
        notes = list(got.parsed.notes) if got.parsed.notes or got.long_lines else _NO_NOTES
        if got.long_lines:
            notes.append(
                (
                    "truncated",
                    f"{got.long_lines} line(s) longer than the line limit were not scanned",
                )
            )
        hints = (("path", stem),) + ((("dir", parent),) if parent else ())
        facts = self.builder.build(got.parsed.records, display, family, hints)
        schema = self._schemas.setdefault(got.parsed.schema, got.parsed.schema)
        # the first line only matters for a data file without facts (an error message?)
        first_line = got.parsed.first_line if not facts else ""
        return FileResult(
            display,
            c.size,
            c.mtime,
            got.format,
            got.encoding,
            got.sha256,
            content_key,
            family,
            len(got.parsed.records),
            got.oddities,
            notes,
            schema,
            first_line,
            mentions,
            facts,
        )


def _read_chunk(args: tuple[IngestSettings, list[Candidate]]) -> tuple[list[object], set[str]]:
    """Worker: read a chunk; facts travel as tuples."""
    settings, chunk = args
    reader = Reader(settings)
    out: list[object] = []
    for c in chunk:
        r = reader.read(c)
        if isinstance(r, FileResult):
            facts = [f.astuple() for f in r.facts]
            r.facts = []
            out.append((r, facts))
        else:
            out.append(r)
    return out, reader.builder.models


def read_all(
    candidates: list[Candidate],
    settings: IngestSettings,
    on_file: Callable[[str], None] | None,
    models: set[str],
    cache: ParseCache | None = None,
) -> Iterator[FileResult | Skipped]:
    """Every candidate read, in order (a generator: results are consumed as they come, so a
    big tree never holds them all twice); explicit model names are added to ``models``.

    The parse cache serves the serial path: a big tree read in parallel is not cached (its
    parses would cost more memory to hold and to pickle than re-reading them in parallel).

    Consumes ``candidates``: in parallel mode the list is emptied once it is split into
    chunks, and each chunk is let go when it is sent (100,000 candidates hold 19 MB).
    """
    workers = _workers(settings, len(candidates))
    if workers <= 1:
        reader = Reader(settings, cache)
        for c in candidates:
            if on_file is not None:
                on_file(c.display)
            yield reader.read(c)
        models |= reader.builder.models
        return
    if on_file is not None:
        for c in candidates:  # in parallel mode the observer hears of every file up front
            on_file(c.display)
    n_chunks = workers * _CHUNKS_PER_WORKER
    size = -(-len(candidates) // n_chunks)
    chunks = deque(candidates[i : i + size] for i in range(0, len(candidates), size))
    candidates.clear()
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        # a bounded window of chunks in flight: finished ones wait in memory until consumed
        pending: deque[Future[tuple[list[object], set[str]]]] = deque()
        for _ in range(min(workers + 1, len(chunks))):
            pending.append(pool.submit(_read_chunk, (settings, chunks.popleft())))
        while pending:
            out, chunk_models = pending.popleft().result()
            nxt = chunks.popleft() if chunks else None
            if nxt is not None:
                pending.append(pool.submit(_read_chunk, (settings, nxt)))
            models |= chunk_models
            for item in out:
                if isinstance(item, Skipped):
                    yield item
                    continue
                assert isinstance(item, tuple)
                r: FileResult = item[0]
                r.facts = [Fact(*t) for t in item[1]]
                yield r
            del out


def _workers(settings: IngestSettings, n_files: int) -> int:
    if settings.workers == 1 or n_files < settings.parallel_min_files:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # fork shares the loaded code and settings for free; spawn would cost more
    if threading.active_count() > 1:
        # A process with other threads (an event loop's executor, llama.cpp, a test server)
        # cannot be forked safely: a lock another thread holds stays locked in the child.
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(settings.workers or (cpus or 1), cpus or 1))
