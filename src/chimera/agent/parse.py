"""Parse an LLM's analysis into summary, findings, recommendations, sections and risks (pure).

Structure first, then titles: the text is split into sections at headings (markdown, setext,
bold lines, numbered and plain title lines), each section into blocks (lists with their nesting,
tables, paragraphs, code); only then are section titles matched against the synonyms below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chimera.agent.junk import CONTROL_TOKEN

Category = Literal["summary", "findings", "recommendations", "analysis", "risks"]


class ParsedAnalysis(BaseModel):
    """What an analysis says, by role; items are plain text with markdown emphasis removed."""

    model_config = ConfigDict(extra="forbid")

    executive_summary: str
    findings: list[str]
    recommendations: list[str]
    sections: dict[str, str]  # section title (numbering and emphasis removed) -> raw body
    risks: list[dict[str, str]]  # rows of a risk/mitigation table: column header -> cell


# --- titles ----------------------------------------------------------------------------------

_SUMMARY_TITLES = frozenset(
    {"executive summary", "summary", "overview", "tl dr", "tldr", "abstract", "executive overview"}
)
_FINDINGS = re.compile(r"\b(?:findings?|observations?|insights?|takeaways?)\b")
_RECOMMENDATIONS = re.compile(
    r"\b(?:recommend\w*|next steps?|action items?|action plan|suggest\w*|what to do"
    r"|areas? for improvement|optimi[sz]ation (?:opportunities|strategies|steps))\b"
)
_RISKS = re.compile(r"\brisks?\b")
_ANALYSIS_TITLES = frozenset(
    {"performance analysis", "analysis", "detailed analysis", "results", "performance results"}
)
# Titles that are sections of a report but none of the roles above; they stop an empty
# role section from adopting the sections that follow it.
_OTHER_SECTION_WORDS = re.compile(
    r"\b(?:appendix|conclusions?|introduction|background|methodology|ingestion|limitations|"
    r"references|report|metrics|data|analysis|summary|overview|notes?|glossary|configuration)\b"
)
# Whole titles a report uses for its sections: a numbered line with one of these is a heading
# even inside a numbered sequence ("1. Executive Summary ... 2. Key Findings").
_SECTION_NAMES = (
    _SUMMARY_TITLES
    | _ANALYSIS_TITLES
    | {
        *("key findings", "findings", "key performance findings", "observations", "insights"),
        *("key observations", "key insights", "recommendations", "next steps", "action items"),
        *("recommendations for optimization", "recommendations for optimisation"),
        *("optimization recommendations", "optimisation recommendations", "data ingestion summary"),
        *("data summary", "conclusion", "conclusions", "introduction", "background", "methodology"),
        *("limitations", "references", "risks", "risks and mitigations", "risk assessment"),
        *("risk mitigation", "glossary", "performance metrics", "metrics"),
    }
)
_TITLE_NUMBERING = re.compile(
    r"^(?:(?:section|part|chapter)\s+\d+\s*[:.)-]?\s*"
    r"|\d{1,2}(?:\.\d{1,2})*[.):]?\s+|[ivxIVX]{1,4}[.)]\s+|[A-Ha-h][.)]\s+)"
)


def _display_title(raw: str) -> str:
    title = strip_markdown(raw).strip().rstrip(":").strip()
    return _TITLE_NUMBERING.sub("", title).strip().rstrip(":").strip()


def normalize_title(title: str) -> str:
    """Lower-case words of a title without numbering, emphasis or punctuation ("4. **Key
    Findings:**" -> "key findings"), for comparing titles."""
    text = _display_title(title).lower().replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def title_category(title: str) -> Category | None:
    """The role a section title names, or None: summary, findings, recommendations, analysis
    (the fallback for findings) or risks."""
    norm = normalize_title(title)
    if norm in _SUMMARY_TITLES or norm.startswith("executive summary"):
        return "summary"
    roles: tuple[tuple[re.Pattern[str], Category], ...] = (
        (_FINDINGS, "findings"),
        (_RECOMMENDATIONS, "recommendations"),
        (_RISKS, "risks"),
    )
    hits = [(m.start(), cat) for pattern, cat in roles if (m := pattern.search(norm))]
    if hits:
        return min(hits)[1]  # "Findings and Recommendations" is about findings first
    return "analysis" if norm in _ANALYSIS_TITLES else None


def _is_section_like(title: str) -> bool:
    return title_category(title) is not None or bool(
        _OTHER_SECTION_WORDS.search(normalize_title(title))
    )


# --- markdown text -----------------------------------------------------------------------------

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_STRIKE = re.compile(r"~~(.+?)~~")
_CODE_SPAN = re.compile(r"`+([^`]*)`+")


def strip_markdown(text: str) -> str:
    """Plain text: emphasis, code ticks and link targets removed, whitespace collapsed.

    Underscores inside words stay (``tokens_s`` is a field name, not emphasis).
    """
    text = _CODE_SPAN.sub(r"\1", _LINK.sub(r"\1", text))
    for pattern in (_STRONG, _STRONG, _STRIKE, _EM_STAR, _EM_UNDERSCORE):
        text = pattern.sub(r"\2" if pattern is _STRONG else r"\1", text)
    text = text.replace("**", "").replace("__", "")  # unbalanced leftovers
    return " ".join(text.split())


# --- normalisation -----------------------------------------------------------------------------

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S | re.I)
_THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.I)
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.I)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)")
_MARKDOWN_LANGS = frozenset({"markdown", "md"})


def _normalise(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _THINK_BLOCK.sub("", text)
    if close := _THINK_CLOSE.search(text):
        text = text[close.end() :]  # the opening tag was in the chat template
    if opening := _THINK_OPEN.search(text):
        text = text[: opening.start()]  # reasoning cut off before any answer
    return _unwrap_markdown_fences(CONTROL_TOKEN.sub("", text).split("\n"))


def _unwrap_markdown_fences(lines: list[str]) -> list[str]:
    """Drop the fences of ```markdown blocks (and of one unlabelled fence around everything),
    keeping their content; code fences nested inside them stay."""
    body = [i for i, line in enumerate(lines) if line.strip()]
    whole = bool(body) and _bare_fence(lines[body[-1]]) and _fence_lang(lines[body[0]]) == ""
    out: list[str] = []
    stack: list[bool] = []  # for each open fence: is it one being unwrapped?
    for i, line in enumerate(lines):
        match = _FENCE.match(line)
        if match is None:
            out.append(line)
        elif stack and not stack[-1]:  # inside code: only a bare fence closes it
            out.append(line)
            if _bare_fence(line):
                stack.pop()
        elif stack and _bare_fence(line):  # closes the markdown wrapper itself
            stack.pop()
        else:
            lang = match.group(2).lower()
            unwrap = lang in _MARKDOWN_LANGS or (whole and not stack and i == body[0])
            stack.append(unwrap)
            if not unwrap:
                out.append(line)
    return out


def _fence_lang(line: str) -> str | None:
    match = _FENCE.match(line)
    return None if match is None else match.group(2).lower()


def _bare_fence(line: str) -> bool:
    return _fence_lang(line) == ""


# --- sections ----------------------------------------------------------------------------------

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BOLD_LINE = re.compile(r"^\s{0,3}(\*\*|__)((?:(?!\*\*|__).)+?)\1\s*:?\s*$")
_BOLD_LABEL = re.compile(r"^\s{0,3}\*\*((?:(?!\*\*).)+?)\*\*\s*:?\s*(\S.*)$")
_PLAIN_LABEL = re.compile(r"^\s{0,3}([A-Za-z][\w ;&/-]{1,40}):\s+(\S.*)$")
_NUMBERED = re.compile(r"^\s{0,3}(\d{1,2}|[IVX]{1,4})[.)]\s+(.+?)\s*$")
_LIST_ITEM = re.compile(r"^(\s*)([-*+•●▪◦‣]|\d{1,3}[.)]|\(\d{1,3}\)|[a-zA-Z][.)])\s+(.*)$")
_ROLES = frozenset({"summary", "findings", "recommendations"})
_BOLD_LEVEL = 7  # bold and plain headings rank below every markdown heading
_PLAIN_LEVEL = 8


@dataclass
class _Section:
    title: str
    level: int
    lines: list[str] = field(default_factory=list)


def _split_sections(lines: list[str]) -> tuple[list[str], list[_Section]]:
    preamble: list[str] = []
    sections: list[_Section] = []
    current = preamble
    in_code = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_code = not in_code or not _bare_fence(line)
            current.append(line)
            i += 1
            continue
        head = None if in_code else _heading(lines, i)
        if head is None:
            current.append(line)
            i += 1
            continue
        level, title, inline, consumed = head
        section = _Section(title, level, [inline] if inline else [])
        sections.append(section)
        current = section.lines
        i += consumed
    return preamble, sections


def _heading(lines: list[str], i: int) -> tuple[int, str, str, int] | None:
    """(level, title, inline body, lines consumed) when line ``i`` is a heading."""
    line = lines[i]
    if not line.strip() or (_LIST_ITEM.match(line) and not _NUMBERED.match(line)):
        return None
    if m := _ATX.match(line):
        return len(m.group(1)), _display_title(m.group(2)), "", 1
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    prev_blank = i == 0 or not lines[i - 1].strip()
    if prev_blank and _SETEXT.match(nxt) and len(line.strip()) <= 80 and not line.startswith("|"):
        return (1 if "=" in nxt else 2), _display_title(line), "", 2
    if m := _BOLD_LINE.match(line):
        title = _display_title(m.group(2))
        if _title_shaped(title, max_words=12):
            return _BOLD_LEVEL, title, "", 1
        return None
    if m := _BOLD_LABEL.match(line):
        if title_category(m.group(1)) is not None and _title_shaped(_display_title(m.group(1)), 6):
            return _BOLD_LEVEL, _display_title(m.group(1)), m.group(2), 1
        return None
    if m := _NUMBERED.match(line):
        return _numbered_heading(lines, i, m)
    if line[:1].isspace() or line.lstrip().startswith("|"):
        return None
    bare = line.strip().rstrip(":").strip()
    if title_category(bare) is not None and _title_shaped(_display_title(bare), max_words=6):
        return _PLAIN_LEVEL, _display_title(bare), "", 1
    label = _PLAIN_LABEL.match(line)
    if label and len(label.group(1).split()) <= 4 and title_category(label.group(1)) in _ROLES:
        return _PLAIN_LEVEL, _display_title(label.group(1)), label.group(2), 1
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
    title = _display_title(m.group(2))
    if not _title_shaped(title, max_words=8) or ": " in title:
        return None
    heading = (_PLAIN_LEVEL, title, "", 1)
    norm = normalize_title(title)
    if norm in _SECTION_NAMES or norm.startswith("appendix"):
        return heading
    number = int(m.group(1)) if m.group(1).isdigit() else None
    if number is not None and (
        _neighbour_number(lines, i, 1) == number + 1
        or _neighbour_number(lines, i, -1) == number - 1
    ):
        return None  # "1. Foo / - sub / 2. Bar": one list, whatever sits between its items
    if _is_section_like(title):
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
            if number is not None or not _LIST_ITEM.match(line):
                return number
        k += step
    return None


def _list_number(line: str) -> int | None:
    match = _LIST_ITEM.match(line)
    marker = match.group(2).strip("().") if match else ""
    return int(marker) if marker.isdigit() else None


# --- blocks inside a section ---------------------------------------------------------------------

_HR = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_ORDINAL_CELL = re.compile(r"^#?\d{1,3}\.?$")
_METADATA_LINE = re.compile(r"^\s*(?:\*\*|__)?[^:]{1,40}:(?:\*\*|__)?\s*\S")


@dataclass
class _Item:
    text: str
    indent: int
    ordered: bool
    children: list[_Item] = field(default_factory=list)


@dataclass
class _Block:
    kind: Literal["paragraph", "list", "table", "code"]
    lines: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    lead_in: str = ""  # the paragraph ending in ":" just before a list


def _blocks(lines: list[str]) -> list[_Block]:
    lines = [re.sub(r"^\s*>\s?", "", line) for line in lines]  # block quotes hold prose too
    blocks: list[_Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_Block("paragraph", lines=paragraph.copy()))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or _HR.match(line):
            flush()
            i += 1
        elif _FENCE.match(line):
            flush()
            j = i + 1
            while j < len(lines) and not _bare_fence(lines[j]):
                j += 1
            blocks.append(_Block("code", lines=lines[i : j + 1]))
            i = j + 1
        elif line.lstrip().startswith("|"):
            flush()
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            blocks.append(_table(lines[i:j]))
            i = j
        elif _LIST_ITEM.match(line):
            lead_in = (
                " ".join(paragraph) if paragraph and paragraph[-1].rstrip().endswith(":") else ""
            )
            flush()
            items, i = _list(lines, i)
            blocks.append(_Block("list", items=items, lead_in=strip_markdown(lead_in)))
        else:
            paragraph.append(line.strip())
            i += 1
    flush()
    return blocks


def _table(rows: list[str]) -> _Block:
    cells = [
        [strip_markdown(c) for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))] for row in rows
    ]
    has_header = len(rows) >= 2 and bool(_TABLE_SEPARATOR.match(rows[1]))
    body = [row for row, raw in zip(cells, rows, strict=True) if not _TABLE_SEPARATOR.match(raw)]
    if has_header:
        return _Block("table", header=body[0], rows=body[1:])
    return _Block("table", rows=body)


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
                (_LIST_ITEM.match(lines[j]) and _heading(lines, j) is None)
                or _indent(lines[j]) > flat[-1].indent
            ):
                i = j
                continue
            break
        if _FENCE.match(line):
            if _indent(line) <= flat[-1].indent:
                break
            i += 1  # a code block inside an item is not part of its text
            while i < len(lines) and not _bare_fence(lines[i]):
                i += 1
            i += 1
            continue
        match = _LIST_ITEM.match(line)
        if match and (i == 0 or _heading(lines, i) is None):
            marker = match.group(2)
            ordered = marker[0].isdigit() or marker[0] == "("
            flat.append(_Item(match.group(3).strip(), _indent(match.group(1)), ordered))
        elif line.lstrip().startswith("|") or _heading(lines, i) is not None:
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


def _render(item: _Item, depth: int = 0) -> str:
    """One item as text; sub-items merge into it: "parent: sub; sub" (deeper: "sub (a, b)")."""
    text = strip_markdown(item.text)
    kids = [k for k in (_render(child, depth + 1) for child in item.children) if k]
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


def _structured_items(blocks: list[_Block]) -> list[str]:
    items: list[str] = []
    for block in blocks:
        if block.kind == "list":
            items += [_render(item) for item in block.items]
        elif block.kind == "table":
            items += [_row_item(row) for row in block.rows]
    return [item for item in items if item]


def _paragraphs(blocks: list[_Block]) -> list[str]:
    texts = (strip_markdown(" ".join(b.lines)) for b in blocks if b.kind == "paragraph")
    return [text for text in texts if text]


# --- roles -----------------------------------------------------------------------------------


def _children(sections: list[_Section], index: int) -> list[_Section]:
    """The untitled-role sections under a role section: deeper ones, or, when the section is
    empty, the same-level ones after it up to the next section a report would name."""
    parent = sections[index]
    out: list[_Section] = []
    j = index + 1
    while j < len(sections) and sections[j].level > parent.level:
        if title_category(sections[j].title) is None:
            out.append(sections[j])
        j += 1
    if not out and not any(line.strip() for line in parent.lines):
        while (
            j < len(sections)
            and sections[j].level == parent.level
            and not _is_section_like(sections[j].title)
        ):
            out.append(sections[j])
            j += 1
    return out


def _collect(sections: list[_Section], category: Category) -> list[str]:
    items: list[str] = []
    for index, section in enumerate(sections):
        if title_category(section.title) != category:
            continue
        blocks = _blocks(section.lines)
        children = _children(sections, index)
        items += _structured_items(blocks)
        if not items and not children:
            items += _paragraphs(blocks)
        for child in children:
            child_blocks = _blocks(child.lines)
            if child_items := _structured_items(child_blocks):
                items += child_items
            elif text := " ".join(_paragraphs(child_blocks)):
                items.append(f"{child.title}: {text}")
            else:
                items.append(child.title)
    return list(dict.fromkeys(items))


_LEAD_IN_RECOMMENDS = re.compile(
    r"\b(?:recommend\w*|suggest\w*|should|next steps?|action items?)\b"
)
_LEAD_IN_FINDS = re.compile(
    r"\b(?:find\w*|found|observ\w*|insights?|notic\w*|shows?|reveal\w*|takeaways?|highlights?)\b"
)


def _lead_in_items(all_blocks: list[_Block], category: Category) -> list[str]:
    """Lists introduced by a sentence ending in ":" ("I recommend the following:"), for text
    with no section of that role."""
    items: list[str] = []
    for block in all_blocks:
        if block.kind != "list" or not block.lead_in:
            continue
        lead = block.lead_in.lower()
        role = (
            "recommendations"
            if _LEAD_IN_RECOMMENDS.search(lead)
            else "findings"
            if _LEAD_IN_FINDS.search(lead)
            else None
        )
        if role == category:
            items += [text for item in block.items if (text := _render(item))]
    return items


def _summary(preamble: list[str], sections: list[_Section]) -> str:
    for section in sections:
        if title_category(section.title) == "summary":
            parts: list[str] = []
            for block in _blocks(section.lines):
                if block.kind == "paragraph":
                    parts.append(strip_markdown(" ".join(block.lines)))
                elif block.kind == "list":
                    parts.append("\n".join(t for item in block.items if (t := _render(item))))
            if text := "\n\n".join(p for p in parts if p):
                return text
    # No summary section: the first paragraph of prose (not a "Date: ..." block).
    for lines in [preamble, *(s.lines for s in sections)]:
        for block in _blocks(lines):
            if block.kind != "paragraph" or all(_METADATA_LINE.match(x) for x in block.lines):
                continue
            text = strip_markdown(" ".join(block.lines))
            if len(text.split()) >= 8:
                return text
    return ""


def _risks(preamble: list[str], sections: list[_Section]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    parts = [(None, preamble), *((title_category(s.title), s.lines) for s in sections)]
    for category, lines in parts:
        for block in _blocks(lines):
            if block.kind != "table":
                continue
            header = block.header
            risky = any(re.search(r"\b(?:risks?|mitigations?)\b", h, re.I) for h in header)
            if not header and category == "risks" and block.rows and len(block.rows[0]) >= 2:
                header = ["Risk", "Mitigation"]
                risky = True
            if risky:
                for row in block.rows:
                    cells = row + [""] * (len(header) - len(row))
                    rows.append(dict(zip(header, cells[: len(header)], strict=True)))
    return rows


def parse_analysis(text: str) -> ParsedAnalysis:
    """Split an LLM's analysis into its executive summary, findings, recommendations, every
    section's body and the rows of a risk table. Never raises; missing parts come back empty."""
    preamble, sections = _split_sections(_normalise(text))
    findings = _collect(sections, "findings") or _collect(sections, "analysis")
    recommendations = _collect(sections, "recommendations")
    if not findings or not recommendations:
        every_block = [
            b for lines in [preamble, *(s.lines for s in sections)] for b in _blocks(lines)
        ]
        findings = findings or _lead_in_items(every_block, "findings")
        recommendations = recommendations or _lead_in_items(every_block, "recommendations")
    bodies: dict[str, str] = {}
    for section in sections:
        title = section.title or "Untitled"
        key, n = title, 1
        while key in bodies:
            n += 1
            key = f"{title} ({n})"
        bodies[key] = "\n".join(section.lines).strip()
    return ParsedAnalysis(
        executive_summary=_summary(preamble, sections),
        findings=findings,
        recommendations=recommendations,
        sections=bodies,
        risks=_risks(preamble, sections),
    )
