"""Markdown: pipe tables are data (one record per row) and labelled numbers in prose are claims.

Tables are found by their separator row (``| --- | --- |``); the header is the last N cells of
the line above it, so a header glued to preceding text (line breaks lost on export) still works.
Headings above a table or line become model hints; ``Model: x`` lines set the document's model.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from chimera.ingest.readers.prose import ProseState, scan_line
from chimera.ingest.records import Hint, Parsed, RawRecord

_SEP = re.compile(
    r"^\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$|^\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$"
)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_SPLIT = re.compile(r"(?<!\\)\|")
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
    lines: list[str], is_config_key: Callable[[str], bool], max_line_chars: int, max_records: int
) -> tuple[Parsed, int]:
    """Records for every table row and labelled number; also the count of lines too long to
    scan."""
    parsed = Parsed(first_line=lines[0][:200] if lines else "")
    headings: list[tuple[int, str]] = []
    hints: tuple[Hint, ...] = ()
    state = ProseState()
    long_lines = 0
    in_fence = False
    table_no = 0
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if len(parsed.records) >= max_records:
            parsed.notes.append(("truncated", f"only the first {max_records} records were read"))
            break
        if len(line) > max_line_chars:
            long_lines += 1
            i += 1
            continue
        stripped = line.lstrip()  # once per line: most lines are prose that ends below
        head = stripped[:3]
        if head in ("```", "~~~"):
            in_fence = not in_fence
            i += 1
            continue
        if in_fence:
            i += 1
            continue
        h = _HEADING.match(line) if head.startswith("#") else None
        if h is not None:
            level = len(h.group(1))
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, h.group(2).strip()))
            hints = tuple(("heading", t) for _, t in reversed(headings))
            state.config = {}
            state.doc_model = None  # a 'Model:' line speaks for its own section
        if not stripped:
            state.config = {}
            i += 1
            continue
        bar = "|" in line
        if bar and i + 1 < n and "-" in lines[i + 1] and _SEP.match(lines[i + 1]):
            table_no += 1
            i = _read_table(lines, i, table_no, hints, state, parsed, max_line_chars, is_config_key)
            continue
        # scan_line's own first test, here to spare the call on most prose lines
        if (not bar or not stripped.startswith("|")) and (":" in line or "=" in line):
            scan_line(line, i + 1, state, hints, is_config_key, parsed.records)
        i += 1
    return parsed, long_lines


def _read_table(
    lines: list[str],
    start: int,
    table_no: int,
    hints: tuple[Hint, ...],
    state: ProseState,
    parsed: Parsed,
    max_line_chars: int,
    is_config_key: Callable[[str], bool],
) -> int:
    """Read the table whose header is ``lines[start]``; returns the index after it."""
    sep = _cells(lines[start + 1].strip().strip("|"))
    width = len(sep)
    head = _cells(lines[start].strip())
    if head and head[-1] == "" and len(head) > width:
        head = head[:-1]
    # cells before the last ``width`` are prose glued to the table (lost line breaks)
    before = "|".join(head[:-width]).strip() if len(head) > width else ""
    if before:
        scan_line(before, start + 1, state, hints, is_config_key, parsed.records)
    header = [_clean(c) for c in head[-width:]]
    while len(header) < width:
        header.append(f"column_{len(header) + 1}")
    context = state.context()
    if state.doc_model:
        hints = (*hints, ("doc", state.doc_model))
    kv_table = bool(header) and header[0].lower() in _KV_HEADERS
    carry = ""
    i = start + 2
    row_no = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or "|" not in stripped or len(line) > max_line_chars:
            break
        if not stripped.startswith("|") and _SEP.match(stripped) is None:
            break
        cells = _cells(stripped)
        if cells and cells[0] == "":
            cells = cells[1:]
        cells = cells[:width]
        row_no += 1
        locator = f"table {table_no} row {row_no}"
        if kv_table:
            _kv_row(header, cells, locator, hints, context, parsed)
        else:
            # a blank first cell continues the group above (| `mlp` | eager | ... then | | jit |)
            if cells and not _clean(cells[0]) and carry:
                cells[0] = carry
            elif cells:
                carry = cells[0]
            values: dict[str, object] = dict(zip(header, map(_clean, cells), strict=False))
            parsed.records.append(RawRecord(locator, values, context, hints, "table"))
        i += 1
    return i


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
