"""Markdown pipe tables: one record per row under a separator row (``| --- | --- |``).

A "Metric | Value" table (first header 'Metric', 'Parameter' or the like) gives one record per
value cell instead, labelled by the row's first cell. Rows are found as a run of lines that
start with '|' (one search), then split into cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from chimera.ingest.readers.prose import ProseState, scan_line
from chimera.ingest.records import Hint, Parsed, RawRecord

# a separator row: '--' cells between '|'s, with ':' for alignment
SEP = re.compile(r"^\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$|^\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$")
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


def read_table(
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
        if not stripped.startswith("|") and SEP.match(stripped) is None:
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
