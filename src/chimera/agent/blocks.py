"""The blocks inside a section (pure): lists with their nesting, tables, paragraphs and
code, and the items they hold as plain text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from chimera.agent.mdtext import FENCE, bare_fence, strip_markdown
from chimera.agent.sections import LIST_ITEM, find_heading

_HR = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_ORDINAL_CELL = re.compile(r"^#?\d{1,3}\.?$")
METADATA_LINE = re.compile(r"^\s*(?:\*\*|__)?[^:]{1,40}:(?:\*\*|__)?\s*\S")


@dataclass
class _Item:
    text: str
    indent: int
    ordered: bool
    children: list[_Item] = field(default_factory=list)


@dataclass
class Block:
    kind: Literal["paragraph", "list", "table", "code"]
    lines: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    lead_in: str = ""  # the paragraph ending in ":" just before a list


def split_blocks(lines: list[str]) -> list[Block]:
    lines = [re.sub(r"^\s*>\s?", "", line) for line in lines]  # block quotes hold prose too
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", lines=paragraph.copy()))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or _HR.match(line):
            flush()
            i += 1
        elif FENCE.match(line):
            flush()
            j = i + 1
            while j < len(lines) and not bare_fence(lines[j]):
                j += 1
            blocks.append(Block("code", lines=lines[i : j + 1]))
            i = j + 1
        elif line.lstrip().startswith("|"):
            flush()
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            blocks.append(_table(lines[i:j]))
            i = j
        elif LIST_ITEM.match(line):
            lead_in = (
                " ".join(paragraph) if paragraph and paragraph[-1].rstrip().endswith(":") else ""
            )
            flush()
            items, i = _list(lines, i)
            blocks.append(Block("list", items=items, lead_in=strip_markdown(lead_in)))
        else:
            paragraph.append(line.strip())
            i += 1
    flush()
    return blocks


def _table(rows: list[str]) -> Block:
    cells = [
        [strip_markdown(c) for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))] for row in rows
    ]
    has_header = len(rows) >= 2 and bool(_TABLE_SEPARATOR.match(rows[1]))
    body = [row for row, raw in zip(cells, rows, strict=True) if not _TABLE_SEPARATOR.match(raw)]
    if has_header:
        return Block("table", header=body[0], rows=body[1:])
    return Block("table", rows=body)


def _list(lines: list[str], i: int) -> tuple[list[_Item], int]:
    """Parse the list starting at line ``i``; returns its top-level items and the next line."""
    flat: list[_Item] = []
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            # A blank line ends the list unless an item or an indented continuation follows.
            if j < len(lines) and (
                (LIST_ITEM.match(lines[j]) and find_heading(lines, j) is None)
                or _indent(lines[j]) > flat[-1].indent
            ):
                i = j
                continue
            break
        if FENCE.match(line):
            if _indent(line) <= flat[-1].indent:
                break
            i += 1  # a code block inside an item is not part of its text
            while i < len(lines) and not bare_fence(lines[i]):
                i += 1
            i += 1
            continue
        match = LIST_ITEM.match(line)
        if match and (i == 0 or find_heading(lines, i) is None):
            marker = match.group(2)
            ordered = marker[0].isdigit() or marker[0] == "("
            flat.append(_Item(match.group(3).strip(), _indent(match.group(1)), ordered))
        elif line.lstrip().startswith("|") or find_heading(lines, i) is not None:
            break
        else:  # a continuation line, indented or lazy
            flat[-1].text += " " + line.strip()
        i += 1
    return _nest(flat), i


def _indent(line: str) -> int:
    prefix = line[: len(line) - len(line.lstrip())]
    return len(prefix.replace("\t", "    "))


def _nest(flat: list[_Item]) -> list[_Item]:
    """Build the item tree from indents. Bullets at the top indent that follow numbered items
    are their sub-items: "1. Parent" then unindented "- sub" is how many models nest."""
    if not flat:
        return []
    base = min(item.indent for item in flat)
    top = [item for item in flat if item.indent == base]
    if top[0].ordered and any(not item.ordered for item in top):
        for item in top:
            if not item.ordered:
                item.indent += 1
    roots: list[_Item] = []
    stack: list[_Item] = []
    for item in flat:
        while stack and stack[-1].indent >= item.indent:
            stack.pop()
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
    return roots


def render_item(item: _Item, depth: int = 0) -> str:
    """One item as text; sub-items merge into it: "parent: sub; sub" (deeper: "sub (a, b)")."""
    text = strip_markdown(item.text)
    kids = [k for k in (render_item(child, depth + 1) for child in item.children) if k]
    if not kids:
        return "" if text.endswith(":") else text  # a bare label is a heading fragment
    if depth == 0:
        # "Label: sub; sub", but a parent that is a whole sentence keeps its full stop.
        glue = " " if text.endswith((".", "!", "?")) else ": "
        return f"{text.rstrip(':')}{glue}{'; '.join(kids)}" if text else "; ".join(kids)
    return f"{text.rstrip(':')} ({', '.join(kids)})" if text else ", ".join(kids)


def _row_item(row: list[str]) -> str:
    cells = [c for c in row if c]
    if cells and _ORDINAL_CELL.match(cells[0]):
        cells = cells[1:]
    if len(cells) <= 1:
        return cells[0] if cells else ""
    return f"{cells[0]}: {'; '.join(cells[1:])}"


def structured_items(blocks: list[Block]) -> list[str]:
    items: list[str] = []
    for block in blocks:
        if block.kind == "list":
            items += [render_item(item) for item in block.items]
        elif block.kind == "table":
            items += [_row_item(row) for row in block.rows]
    return [item for item in items if item]


def paragraph_texts(blocks: list[Block]) -> list[str]:
    texts = (strip_markdown(" ".join(b.lines)) for b in blocks if b.kind == "paragraph")
    return [text for text in texts if text]
