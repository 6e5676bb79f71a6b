"""Section titles (pure): what role a title names (summary, findings, recommendations,
analysis, risks), by synonyms, once numbering and emphasis are taken off."""

from __future__ import annotations

import re
from typing import Literal

from chimera.agent.mdtext import strip_markdown

Category = Literal["summary", "findings", "recommendations", "analysis", "risks"]

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
SECTION_NAMES = (
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


def display_title(raw: str) -> str:
    title = strip_markdown(raw).strip().rstrip(":").strip()
    return _TITLE_NUMBERING.sub("", title).strip().rstrip(":").strip()


def normalize_title(title: str) -> str:
    """Lower-case words of a title without numbering, emphasis or punctuation ("4. **Key
    Findings:**" -> "key findings"), for comparing titles."""
    text = display_title(title).lower().replace("&", " and ")
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


def is_section_like(title: str) -> bool:
    return title_category(title) is not None or bool(
        _OTHER_SECTION_WORDS.search(normalize_title(title))
    )
