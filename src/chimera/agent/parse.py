"""Parse an LLM's analysis into summary, findings, recommendations, sections and risks (pure).

Structure first, then titles: the text is split into sections at headings (markdown, setext,
bold lines, numbered and plain title lines), each section into blocks (lists with their nesting,
tables, paragraphs, code); only then are section titles matched against the synonyms below.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from chimera.agent.blocks import (
    METADATA_LINE,
    Block,
    paragraph_texts,
    render_item,
    split_blocks,
    structured_items,
)
from chimera.agent.mdtext import normalise_lines, strip_markdown
from chimera.agent.sections import Section, split_sections
from chimera.agent.titles import Category, is_section_like, normalize_title, title_category

# The parsing's public names, wherever they live.
__all__ = [
    "ParsedAnalysis",
    "normalize_title",
    "parse_analysis",
    "strip_markdown",
    "title_category",
]


class ParsedAnalysis(BaseModel):
    """What an analysis says, by role; items are plain text with markdown emphasis removed."""

    model_config = ConfigDict(extra="forbid")

    executive_summary: str
    findings: list[str]
    recommendations: list[str]
    sections: dict[str, str]  # section title (numbering and emphasis removed) -> raw body
    risks: list[dict[str, str]]  # rows of a risk/mitigation table: column header -> cell


def _children(sections: list[Section], index: int) -> list[Section]:
    """The untitled-role sections under a role section: deeper ones, or, when the section is
    empty, the same-level ones after it up to the next section a report would name."""
    parent = sections[index]
    out: list[Section] = []
    j = index + 1
    while j < len(sections) and sections[j].level > parent.level:
        if title_category(sections[j].title) is None:
            out.append(sections[j])
        j += 1
    if not out and not any(line.strip() for line in parent.lines):
        while (
            j < len(sections)
            and sections[j].level == parent.level
            and not is_section_like(sections[j].title)
        ):
            out.append(sections[j])
            j += 1
    return out


def _collect(sections: list[Section], category: Category) -> list[str]:
    items: list[str] = []
    for index, section in enumerate(sections):
        if title_category(section.title) != category:
            continue
        blocks = split_blocks(section.lines)
        children = _children(sections, index)
        items += structured_items(blocks)
        if not items and not children:
            items += paragraph_texts(blocks)
        for child in children:
            child_blocks = split_blocks(child.lines)
            if child_items := structured_items(child_blocks):
                items += child_items
            elif text := " ".join(paragraph_texts(child_blocks)):
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


def _lead_in_items(all_blocks: list[Block], category: Category) -> list[str]:
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
            items += [text for item in block.items if (text := render_item(item))]
    return items


def _summary(preamble: list[str], sections: list[Section]) -> str:
    for section in sections:
        if title_category(section.title) == "summary":
            parts: list[str] = []
            for block in split_blocks(section.lines):
                if block.kind == "paragraph":
                    parts.append(strip_markdown(" ".join(block.lines)))
                elif block.kind == "list":
                    parts.append("\n".join(t for item in block.items if (t := render_item(item))))
            if text := "\n\n".join(p for p in parts if p):
                return text
    # No summary section: the first paragraph of prose (not a "Date: ..." block).
    for lines in [preamble, *(s.lines for s in sections)]:
        for block in split_blocks(lines):
            if block.kind != "paragraph" or all(METADATA_LINE.match(x) for x in block.lines):
                continue
            text = strip_markdown(" ".join(block.lines))
            if len(text.split()) >= 8:
                return text
    return ""


def _risks(preamble: list[str], sections: list[Section]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    parts = [(None, preamble), *((title_category(s.title), s.lines) for s in sections)]
    for category, lines in parts:
        for block in split_blocks(lines):
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
    preamble, sections = split_sections(normalise_lines(text))
    findings = _collect(sections, "findings") or _collect(sections, "analysis")
    recommendations = _collect(sections, "recommendations")
    if not findings or not recommendations:
        every_block = [
            b for lines in [preamble, *(s.lines for s in sections)] for b in split_blocks(lines)
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
