"""CSV and TSV: a header row, then one record per row; ragged rows are read and reported."""

from __future__ import annotations

import csv
import io
import sys

from chimera.ingest.decode import split_lines
from chimera.ingest.records import Parsed, RawRecord

_DELIMS = (",", ";", "\t", "|")


def _delimiter(first_line: str) -> str:
    """The delimiter used most in the header line outside quotes (',' when none)."""
    counts = dict.fromkeys(_DELIMS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header):
        name = name.strip() or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def read_csv(text: str, *, tsv: bool, max_records: int, max_line_chars: int) -> Parsed:
    """Parse CSV/TSV text (any line ends) into records keyed by the header's names."""
    parsed = Parsed()
    if len(text) > max_line_chars:
        # A multi-megabyte line is not a row; splitting it could make millions of fields.
        lines = split_lines(text)
        long_lines = sum(1 for ln in lines if len(ln) > max_line_chars)
        if long_lines:
            text = "\n".join(ln for ln in lines if len(ln) <= max_line_chars)
            parsed.notes.append(
                (
                    "truncated",
                    f"{long_lines} line(s) longer than {max_line_chars:,} characters were not read",
                )
            )
    first_nl = min((i for i in (text.find("\n"), text.find("\r")) if i >= 0), default=len(text))
    parsed.first_line = text[:first_nl][:200]
    delimiter = "\t" if tsv else _delimiter(text[:first_nl])
    # A 50 MB single-line cell is legal CSV; the size cap bounds it, not csv's 128 KiB default.
    if csv.field_size_limit() < sys.maxsize // 2:
        csv.field_size_limit(sys.maxsize // 2)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    ragged: list[int] = []
    row_no = 0
    try:
        for row in reader:
            if not "".join(row).strip():  # no cell with anything but whitespace
                continue
            if header is None:
                # interned: files of a family repeat a header, and every fact keeps its name
                header = [sys.intern(h) for h in _unique(row)]
                parsed.schema = tuple(sys.intern(h.lower()) for h in header)
                continue
            row_no += 1
            if len(parsed.records) >= max_records:
                parsed.notes.append(("truncated", f"only the first {max_records} rows were read"))
                break
            if len(row) != len(header):
                ragged.append(row_no)
            values: dict[str, object] = dict(zip(header, row, strict=False))
            # interned: 'row 1' is the same string in every file, and every fact keeps one
            parsed.records.append(RawRecord(sys.intern(f"row {row_no}"), values))
    except csv.Error as exc:
        parsed.notes.append(("malformed_rows", f"CSV error after row {row_no}: {exc}"))
    if ragged and header is not None:
        shown = ", ".join(str(r) for r in ragged[:8]) + (" ..." if len(ragged) > 8 else "")
        parsed.notes.append(
            (
                "malformed_rows",
                f"{len(ragged)} row(s) do not have the header's {len(header)} fields "
                f"(rows {shown}); missing fields were left empty, extra ones ignored",
            )
        )
    return parsed
