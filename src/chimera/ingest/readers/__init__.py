"""Read one candidate file: size cap, bytes, decoding, type sniffing, then the format's reader."""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from chimera.ingest.decode import BinaryContent, decode, split_lines
from chimera.ingest.readers.csvfile import read_csv
from chimera.ingest.readers.jsonfile import JSONProblem, read_json, read_jsonl
from chimera.ingest.readers.markdown import read_markdown
from chimera.ingest.readers.prose import read_text
from chimera.ingest.records import Format, Parsed, Skipped
from chimera.ingest.settings import IngestSettings
from chimera.ingest.walk import Candidate

_MD_HINT = re.compile(r"^\s{0,3}#{1,6}\s|^\s*\|?\s*:?-{3,}:?\s*\|", re.MULTILINE)
# ISO dates/times and epoch seconds: what differs between re-generated copies of a report.
# Both start with a digit; saying so up front ((?=\d)) lets the scan pass over other
# characters before trying the alternatives (twice as fast on the corpus's reports).
_VOLATILE = re.compile(
    r"(?=\d)(?:\d{4}-\d{2}-\d{2}[T _]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?|"
    r"\b1[5-9]\d{8}(?:\.\d+)?\b)"
)
# Tools regenerate small reports (digests, summaries); comparing big ones costs more than it
# finds, so only reports up to this size get a timestamp-blind content key.
_NEAR_DUP_MAX = 16 * 2**10
_MENTION_MAX = 2 * 2**20
# Found by extension first, then the name before it: a '[\w.-]+\.csv' search would backtrack
# quadratically over a long run of word characters.
_MENTION_EXT = re.compile(r"\.(?:csv|tsv|jsonl|json|ndjson)\b", re.IGNORECASE)
_MENTION_NAME = re.compile(r"[\w.-]{1,120}")  # matched backwards: on the reversed text


@dataclass(slots=True)
class FileRead:
    """A file's parse and what is needed to describe it."""

    format: Format
    encoding: str
    sha256: str
    oddities: tuple[str, ...]
    parsed: Parsed
    long_lines: int = 0
    text: str = ""  # the decoded text, for report_keys (a reader's caller lets it go)


def sniff(text: str) -> Format | None:
    """The format of text with an unknown extension, or None for plain prose."""
    head = text.lstrip()[:4096]
    if head.startswith(("{", "[")):
        rows = [ln for ln in split_lines(head) if ln.strip()][:5]
        if len(rows) > 1 and all(
            r.lstrip().startswith("{") and r.rstrip().endswith("}") for r in rows[:-1]
        ):
            return "jsonl"
        return "json"
    if _MD_HINT.search(head):
        return "markdown"
    rows = [ln for ln in split_lines(head) if ln.strip()][:3]
    for delim, fmt in (("\t", "tsv"), (",", "csv")):
        counts = {r.count(delim) for r in rows}
        if len(rows) > 1 and len(counts) == 1 and 0 not in counts:
            return fmt  # type: ignore[return-value]
    return None


def read_bytes(path: str, limit: int, size_hint: int) -> bytes:
    """At most ``limit`` bytes of a file (the one place ingestion reads file contents).

    Reads ``size_hint + 1`` bytes first: asking for ``limit`` would allocate a buffer of the
    size cap for every small file.
    """
    with io.FileIO(path) as fh:
        data = fh.read(min(limit, size_hint + 1)) or b""
        if len(data) == size_hint + 1 and len(data) < limit:  # it grew since the walk
            data += fh.read(limit - len(data)) or b""
    return data


def read_file(
    c: Candidate, settings: IngestSettings, is_config_key: Callable[[str], bool]
) -> FileRead | Skipped:
    """Read and parse ``c``; every failure becomes a Skipped with its reason."""
    if c.size > settings.max_file_bytes:
        return Skipped(
            path=c.display,
            reason="over_size_cap",
            bytes=c.size,
            detail=f"{c.size:,} bytes is over the {settings.max_file_bytes:,}-byte "
            f"cap (raise max_file_bytes to read it)",
        )
    try:
        data = read_bytes(c.path, settings.max_file_bytes + 1, c.size)
    except FileNotFoundError:
        return Skipped(
            path=c.display,
            reason="vanished",
            bytes=c.size,
            detail="file disappeared during the scan",
        )
    except OSError as exc:
        return Skipped(
            path=c.display,
            reason="unreadable",
            bytes=c.size,
            detail=f"cannot be read ({exc.strerror or exc})",
        )
    if len(data) > settings.max_file_bytes:
        return Skipped(
            path=c.display,
            reason="over_size_cap",
            bytes=len(data),
            detail=f"grew past the {settings.max_file_bytes:,}-byte cap while read",
        )
    if not data.strip():
        return Skipped(
            path=c.display,
            reason="empty",
            bytes=len(data),
            detail="empty file" if not data else "only whitespace",
        )
    digest = hashlib.sha256(data).hexdigest()
    try:
        dec = decode(data)
    except BinaryContent as exc:
        what = f"{posixpath.splitext(c.display)[1] or 'extension-less'} name" if c.format else ""
        return Skipped(
            path=c.display,
            reason="binary",
            bytes=len(data),
            sha256=digest,
            detail=f"{exc}" + (f" under a {what}" if what else ""),
        )
    text = dec.text
    size = len(data)
    del data  # a 50 MB file is held once while it is parsed, as text
    fmt = c.format or sniff(text)
    if fmt is None:
        ext = posixpath.splitext(c.display)[1]
        if ext:
            return Skipped(
                path=c.display,
                reason="unsupported_type",
                bytes=size,
                detail=f"unknown extension {ext}; the content is not CSV, JSON or Markdown",
            )
        fmt = "text"
    try:
        parsed, long_lines = _parse(fmt, text, settings, is_config_key)
    except JSONProblem as exc:
        return Skipped(
            path=c.display,
            reason=exc.reason,
            bytes=size,
            detail=exc.detail,
        )
    # content_key and mentions serve the findings, not the parse: report_keys fills them in
    return FileRead(fmt, dec.encoding, digest, dec.oddities, parsed, long_lines, text)


def report_keys(fmt: Format, text: str) -> tuple[str, frozenset[str]]:
    """For a report (Markdown/text): its timestamp-blind content key ('' when too big or not a
    report) and the data-file names it mentions; what near-duplicate and claim checks use."""
    if fmt not in ("markdown", "text"):
        return "", frozenset()
    content_key = ""
    if len(text) <= _NEAR_DUP_MAX:
        normalized = " ".join(_VOLATILE.sub("", text).split())
        content_key = hashlib.sha256(normalized.encode()).hexdigest()
    return content_key, _mentions(text[:_MENTION_MAX])


def _mentions(text: str) -> frozenset[str]:
    """Data-file names (lower case) a report mentions, e.g. 'gemma3_baseline.csv'."""
    out = set()
    for m in _MENTION_EXT.finditer(text):
        # the name ends at the extension: read it backwards from there, in the up to 120
        # characters before it reversed (a search for a name ending there tried every position
        # of them: 4x slower on the corpus's reports)
        start = m.start()
        name = _MENTION_NAME.match(text[max(0, start - 120) : start][::-1])
        if name is not None:
            out.add((name.group(0)[::-1] + m.group(0)).lower())
    return frozenset(out)


def _parse(
    fmt: Format, text: str, settings: IngestSettings, is_config_key: Callable[[str], bool]
) -> tuple[Parsed, int]:
    limit = settings.max_records_per_file
    if fmt in ("csv", "tsv"):
        csv_parsed = read_csv(
            text, tsv=fmt == "tsv", max_records=limit, max_line_chars=settings.max_line_chars
        )
        return csv_parsed, 0
    if fmt == "json":
        return read_json(text, max_depth=settings.max_json_depth, max_records=limit), 0
    if fmt == "jsonl":
        lines = split_lines(text)
        return read_jsonl(text, lines, max_depth=settings.max_json_depth, max_records=limit), 0
    if fmt == "markdown":
        return read_markdown(text, is_config_key, settings.max_line_chars, limit)
    records, long_lines = read_text(text, is_config_key, settings.max_line_chars)
    # the first line as split_lines gives it, without prepare's copy of the whole text
    head = text[:200].replace("\r", "\n").split("\n", 1)[0]
    parsed = Parsed(records=records[:limit], first_line=head)
    return parsed, long_lines
