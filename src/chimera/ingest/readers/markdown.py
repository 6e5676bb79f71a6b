"""Markdown: pipe tables are data (one record per row) and labelled numbers in prose are claims.

Tables are found by their separator row (``| --- | --- |``); the header is the last N cells of
the line above it, so a header glued to preceding text (line breaks lost on export) still works.
Headings above a table or line become model hints; ``Model: x`` lines set the document's model.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable

from chimera.ingest.readers.mdtable import SEP, read_table
from chimera.ingest.readers.prose import ProseState, claim_lines, scan_line
from chimera.ingest.readers.textlines import (
    BLANK_LINE,
    blank_between,
    first_line,
    line_end,
    long_line_starts,
    prepare,
)
from chimera.ingest.records import Hint, Parsed

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
# Searched in a prepared text (textlines): lines that may open or close a code block or be a
# heading; what every separator row holds (both SEP alternatives have a '|' before a '--'),
# found from the '|' (the line above is the table's header).
_STRUCT = re.compile(r"\n[^\S\n]*(?:```|~~~|#)")
_FENCE = re.compile(r"\n[^\S\n]*(?:```|~~~)")
_SEP_BAR = re.compile(r"\|[^\S\n]*:?--[^\n]*")  # one match per line


def read_markdown(
    text: str, is_config_key: Callable[[str], bool], max_line_chars: int, max_records: int
) -> tuple[Parsed, int]:
    """Records for every table row and labelled number; also the count of lines too long to
    scan.

    Regex searches over the whole text find the lines that can matter (fences, headings, a
    line above a separator row, lines scan_line acts on); C skips the rest. What a skipped
    line would have done is kept exact: a blank one ends the section's configuration (checked
    between the lines visited), a long one is counted.
    """
    t = prepare(text)
    size = len(t)
    find = t.find
    parsed = Parsed(first_line=first_line(t))
    records = parsed.records
    headings: list[tuple[int, tuple[Hint, ...]]] = []  # (level, hints) of open sections
    hints: tuple[Hint, ...] = ()
    state = ProseState()
    table_no = long_seps = lineno = counted = 0
    blank = BLANK_LINE.search
    maybe_long = size - 1 > max_line_chars  # a blank line may be a long one then
    pos = 1  # the first line not yet read
    for start in _lines_to_visit(t):
        if start < pos:
            continue  # in a code block or table already read
        if len(records) >= max_records:
            break
        # a blank line between the last line read and this one ends the configuration's scope
        if (
            state.config
            and start > pos
            and blank(t, pos - 1, start) is not None
            and (not maybe_long or blank_between(t, pos, start, max_line_chars))
        ):
            state.config = {}
        end = find("\n", start)
        if end < 0:
            end = size
        pos = end + 1
        if end - start > max_line_chars:
            continue
        line = t[start:end]
        stripped = line.lstrip()
        head = stripped[:3]
        if head in ("```", "~~~"):
            pos = _after_fence(t, pos, max_line_chars)
            continue
        h = _HEADING.match(line) if head[:1] == "#" else None
        if h is not None:
            level = len(h.group(1))
            while headings and headings[-1][0] >= level:
                headings.pop()
            # the innermost heading first: each level keeps the hints it and its parents give
            hints = (("heading", h.group(2).strip()), *(headings[-1][1] if headings else ()))
            headings.append((level, hints))
            state.config = {}
            state.doc_model = None  # a 'Model:' line speaks for its own section
        elif not stripped:
            state.config = {}
            continue
        if pos < size and "|" in line:
            below_end = find("\n", pos)
            below = t[pos:] if below_end < 0 else t[pos:below_end]
            if "-" in below and SEP.match(below):
                lineno += t.count("\n", counted, start)
                counted = start
                table_no += 1
                long_seps += len(below) > max_line_chars
                pos = read_table(
                    t,
                    line,
                    below,
                    lineno,
                    table_no,
                    hints,
                    state,
                    parsed,
                    max_line_chars,
                    is_config_key,
                    pos + len(below) + 1,
                )
                continue
        if (":" in line or "=" in line) and stripped[:1] != "|":
            lineno += t.count("\n", counted, start)
            counted = start
            scan_line(line, lineno, state, hints, is_config_key, records)
    # the line reader stopped at the first line it met with the records full
    if len(records) >= max_records and pos < size:
        parsed.notes.append(("truncated", f"only the first {max_records} records were read"))
    else:
        pos = size
    longs = long_line_starts(t, max_line_chars)
    return parsed, (bisect_left(longs, pos) if longs else 0) - long_seps


def _lines_to_visit(t: str) -> list[int]:
    """Starts of the lines of prepared text ``t`` that may matter, in order: fences, headings,
    lines above a separator-like line, claim lines."""
    rfind = t.rfind
    starts = claim_lines(t)
    starts.update([m.start() + 1 for m in _STRUCT.finditer(t)])
    for m in _SEP_BAR.finditer(t):
        sep = rfind("\n", 0, m.start()) + 1
        if sep > 1:  # the first line has no line above
            starts.add(rfind("\n", 0, sep - 1) + 1)
    return sorted(starts)


def _after_fence(t: str, pos: int, max_line_chars: int) -> int:
    """The line after the fence closing a code block at or after ``pos`` (the end when none)."""
    m = _FENCE.search(t, pos - 1)
    while m is not None:
        end = line_end(t, m.start() + 1)
        if end - m.start() - 1 <= max_line_chars:  # a long line is not read, fence or not
            return end + 1
        m = _FENCE.search(t, end)
    return len(t)
