"""Markdown: pipe tables are data (one record per row) and labelled numbers in prose are claims.

Tables are found by their separator row (``| --- | --- |``); the header is the last N cells of
the line above it, so a header glued to preceding text (line breaks lost on export) still works.
Headings above a table or line become model hints; ``Model: x`` lines set the document's model.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable

from chimera.ingest.readers.prose import ProseState, claim_lines, scan_line
from chimera.ingest.readers.textlines import (
    blank_between,
    first_line,
    line_end,
    long_line_starts,
    prepare,
)
from chimera.ingest.records import Hint, Parsed, RawRecord

_SEP = re.compile(
    r"^\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$|^\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$"
)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
# Searched in a prepared text (textlines): lines that may open or close a code block or be a
# heading; what every separator row holds (both _SEP alternatives have a '|' before a '--'),
# found from the '|' (the line above is the table's header).
_STRUCT = re.compile(r"\n[^\S\n]*(?:```|~~~|#)")
_FENCE = re.compile(r"\n[^\S\n]*(?:```|~~~)")
_BLANK = re.compile(r"\n[^\S\n]*\n")  # a blank line (textlines.blank_between's)
_SEP_BAR = re.compile(r"\|[^\S\n]*:?--[^\n]*")  # one match per line
_SPLIT = re.compile(r"(?<!\\)\|")
# table rows: a run of lines whose first non-blank character is '|'
_BAR_ROWS = re.compile(r"(?:[^\S\n]*\|[^\n]*(?:\n|\Z))*")
# first-column headers of "Metric | Value" tables (one metric per row)
_KV_HEADERS = frozenset(
    {
        "metric",
        "metrics",
        "measure",
        "kpi",
        "statistic",
        "stat",
        "parameter",
        "item",
        "property",
        "quantity",
    }
)
_VALUE_HEADERS = frozenset(
    {"value", "values", "result", "results", "measurement", "measured", "actual"}
)


def _cells(line: str) -> list[str]:
    # an escaped bar (\|) is the only reason for the regex; most rows have no backslash
    parts = line.split("|") if "\\" not in line else _SPLIT.split(line)
    return [p.strip() for p in parts]


def _clean(cell: str) -> str:
    return cell.replace("**", "").replace("`", "").strip()


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
    blank = _BLANK.search
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
            if "-" in below and _SEP.match(below):
                lineno += t.count("\n", counted, start)
                counted = start
                table_no += 1
                long_seps += len(below) > max_line_chars
                pos = _read_table(
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


def _read_table(
    t: str,
    head_line: str,
    sep_line: str,
    lineno: int,
    table_no: int,
    hints: tuple[Hint, ...],
    state: ProseState,
    parsed: Parsed,
    max_line_chars: int,
    is_config_key: Callable[[str], bool],
    pos: int,
) -> int:
    """Read the table with this header line (number ``lineno``) and separator row, whose rows
    start at ``pos``; returns where the first line after it starts."""
    sep = _cells(sep_line.strip().strip("|"))
    width = len(sep)
    head = _cells(head_line.strip())
    if head and head[-1] == "" and len(head) > width:
        head = head[:-1]
    # cells before the last ``width`` are prose glued to the table (lost line breaks)
    before = "|".join(head[:-width]).strip() if len(head) > width else ""
    if before:
        scan_line(before, lineno, state, hints, is_config_key, parsed.records)
    header = [_clean(c) for c in head[-width:]]
    while len(header) < width:
        header.append(f"column_{len(header) + 1}")
    context = state.context()
    if state.doc_model:
        hints = (*hints, ("doc", state.doc_model))
    kv_table = bool(header) and header[0].lower() in _KV_HEADERS
    carry = ""
    row_no = 0
    records = parsed.records
    rows, end = _rows(t, pos, max_line_chars)
    for row in rows:
        cells = _row_cells(row, width)
        row_no += 1
        locator = f"table {table_no} row {row_no}"
        if kv_table:
            _kv_row(header, cells, locator, hints, context, parsed)
            continue
        # without '**' or '`' the (stripped) cells are clean already
        plain = "**" not in row and "`" not in row
        # a blank first cell continues the group above (| `mlp` | eager | ... then | | jit |)
        if cells and not (cells[0] if plain else _clean(cells[0])) and carry:
            cells[0] = carry
            plain = plain and "**" not in carry and "`" not in carry
        elif cells:
            carry = cells[0]
        values: dict[str, object] = dict(
            zip(header, cells if plain else map(_clean, cells), strict=False)
        )
        records.append(RawRecord(locator, values, context, hints, "table"))
    return end


def _rows(t: str, pos: int, max_line_chars: int) -> tuple[list[str], int]:
    """The table rows (stripped) from line start ``pos`` on, and where the line after them
    starts: lines that start with '|', and separator-like lines holding one."""
    rows: list[str] = []
    size = len(t)
    while pos < size:
        bars = _BAR_ROWS.match(t, pos)  # most rows at once (it matches, if only nothing)
        run = bars.end() if bars is not None else pos
        if run > pos:
            lines = t[pos:run].split("\n")
            if t.endswith("\n", pos, run):
                lines.pop()  # the run's last newline opens no row
            for line in lines:
                if len(line) > max_line_chars:
                    return rows, pos  # too long to read: the table ends above it
                rows.append(line.strip())
                pos += len(line) + 1
            pos = min(pos, size)
            if pos >= size:
                break
        end = t.find("\n", pos)
        if end < 0:
            end = size
        line = t[pos:end]
        stripped = line.strip()
        if not stripped or "|" not in stripped or len(line) > max_line_chars:
            break
        if not stripped.startswith("|") and _SEP.match(stripped) is None:
            break
        rows.append(stripped)
        pos = end + 1
    return rows, min(pos, size)


def _row_cells(row: str, width: int) -> list[str]:
    """The first ``width`` cells of a table row, a leading empty one (before '|') left out."""
    parts = row.split("|") if "\\" not in row else _SPLIT.split(row)
    if not parts[0].strip():
        del parts[0]
    return [p.strip() for p in parts[:width]]


def _kv_row(
    header: list[str],
    cells: list[str],
    locator: str,
    hints: tuple[Hint, ...],
    context: tuple[tuple[str, object], ...],
    parsed: Parsed,
) -> None:
    if not cells:
        return
    label = _clean(cells[0])
    for col, cell in zip(header[1:], cells[1:], strict=False):
        col_hints = hints
        if col.lower() not in _VALUE_HEADERS:
            col_hints = (("header", col), *hints)
        parsed.records.append(
            RawRecord(
                locator, {label: _clean(cell), "__column__": col}, context, col_hints, "table"
            )
        )
