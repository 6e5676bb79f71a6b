"""An LLM's text split into sections at its headings (pure): Markdown and setext headings,
bold lines, numbered and plain title lines, ranked so that a bold line sits below every
Markdown heading."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chimera.agent.mdtext import FENCE, bare_fence
from chimera.agent.titles import (
    SECTION_NAMES,
    display_title,
    is_section_like,
    normalize_title,
    title_category,
)

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BOLD_LINE = re.compile(r"^\s{0,3}(\*\*|__)((?:(?!\*\*|__).)+?)\1\s*:?\s*$")
_BOLD_LABEL = re.compile(r"^\s{0,3}\*\*((?:(?!\*\*).)+?)\*\*\s*:?\s*(\S.*)$")
_PLAIN_LABEL = re.compile(r"^\s{0,3}([A-Za-z][\w ;&/-]{1,40}):\s+(\S.*)$")
_NUMBERED = re.compile(r"^\s{0,3}(\d{1,2}|[IVX]{1,4})[.)]\s+(.+?)\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+•●▪◦‣]|\d{1,3}[.)]|\(\d{1,3}\)|[a-zA-Z][.)])\s+(.*)$")
_ROLES = frozenset({"summary", "findings", "recommendations"})
_BOLD_LEVEL = 7  # bold and plain headings rank below every markdown heading
_PLAIN_LEVEL = 8


@dataclass
class Section:
    title: str
    level: int
    lines: list[str] = field(default_factory=list)


def split_sections(lines: list[str]) -> tuple[list[str], list[Section]]:
    preamble: list[str] = []
    sections: list[Section] = []
    current = preamble
    in_code = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if FENCE.match(line):
            in_code = not in_code or not bare_fence(line)
            current.append(line)
            i += 1
            continue
        head = None if in_code else find_heading(lines, i)
        if head is None:
            current.append(line)
            i += 1
            continue
        level, title, inline, consumed = head
        section = Section(title, level, [inline] if inline else [])
        sections.append(section)
        current = section.lines
        i += consumed
    return preamble, sections


def find_heading(lines: list[str], i: int) -> tuple[int, str, str, int] | None:
    """(level, title, inline body, lines consumed) when line ``i`` is a heading."""
    line = lines[i]
    if not line.strip() or (LIST_ITEM.match(line) and not _NUMBERED.match(line)):
        return None
    if m := _ATX.match(line):
        return len(m.group(1)), display_title(m.group(2)), "", 1
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    prev_blank = i == 0 or not lines[i - 1].strip()
    if prev_blank and _SETEXT.match(nxt) and len(line.strip()) <= 80 and not line.startswith("|"):
        return (1 if "=" in nxt else 2), display_title(line), "", 2
    if m := _BOLD_LINE.match(line):
        title = display_title(m.group(2))
        if _title_shaped(title, max_words=12):
            return _BOLD_LEVEL, title, "", 1
        return None
    if m := _BOLD_LABEL.match(line):
        if title_category(m.group(1)) is not None and _title_shaped(display_title(m.group(1)), 6):
            return _BOLD_LEVEL, display_title(m.group(1)), m.group(2), 1
        return None
    if m := _NUMBERED.match(line):
        return _numbered_heading(lines, i, m)
    if line[:1].isspace() or line.lstrip().startswith("|"):
        return None
    bare = line.strip().rstrip(":").strip()
    if title_category(bare) is not None and _title_shaped(display_title(bare), max_words=6):
        return _PLAIN_LEVEL, display_title(bare), "", 1
    label = _PLAIN_LABEL.match(line)
    if label and len(label.group(1).split()) <= 4 and title_category(label.group(1)) in _ROLES:
        return _PLAIN_LEVEL, display_title(label.group(1)), label.group(2), 1
    return None


def _title_shaped(title: str, max_words: int) -> bool:
    return (
        bool(title)
        and len(title) <= 90
        and len(title.split()) <= max_words
        and not title.endswith((".", "!", "?", ",", ";"))
    )


def _numbered_heading(
    lines: list[str], i: int, m: re.Match[str]
) -> tuple[int, str, str, int] | None:
    """Whether a plain "4. Key Findings" line is a heading rather than a list item: yes when
    its title is a report section's name; no when the numbering runs on from or into its
    neighbours (a list); else yes when it names a section, or is title-shaped and followed by
    a paragraph or bullets."""
    title = display_title(m.group(2))
    if not _title_shaped(title, max_words=8) or ": " in title:
        return None
    heading = (_PLAIN_LEVEL, title, "", 1)
    norm = normalize_title(title)
    if norm in SECTION_NAMES or norm.startswith("appendix"):
        return heading
    number = int(m.group(1)) if m.group(1).isdigit() else None
    if number is not None and (
        _neighbour_number(lines, i, 1) == number + 1
        or _neighbour_number(lines, i, -1) == number - 1
    ):
        return None  # "1. Foo / - sub / 2. Bar": one list, whatever sits between its items
    if is_section_like(title):
        return heading
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if not title[:1].isupper() or j == len(lines) or lines[j][:1].isspace():
        return None  # the end, or an indented continuation of a list item
    return heading


def _neighbour_number(lines: list[str], i: int, step: int) -> int | None:
    """The number of the nearest numbered item before or after line ``i`` when only blank
    lines, indented lines and bullets lie between; None if anything else comes first."""
    k = i + step
    while 0 <= k < len(lines):
        line = lines[k]
        if line.strip() and not line[:1].isspace():
            number = _list_number(line)
            if number is not None or not LIST_ITEM.match(line):
                return number
        k += step
    return None


def _list_number(line: str) -> int | None:
    match = LIST_ITEM.match(line)
    marker = match.group(2).strip("().") if match else ""
    return int(marker) if marker.isdigit() else None
