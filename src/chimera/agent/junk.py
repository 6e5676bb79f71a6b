"""Find junk in LLM text: leaked control tokens, stray text in another script, repetition (pure)."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Literal

JunkKind = Literal["control-token", "foreign-script", "repetition"]

# Chat-template and vocabulary tokens that must never reach a reader. `<think>` is not here:
# reasoning blocks are a model feature that parse.py drops, not a leak.
CONTROL_TOKEN = re.compile(
    r"<unused\d+>"
    r"|<\|[A-Za-z0-9_.:-]{1,40}\|>"  # <|im_end|>, <|eot_id|>, <|endoftext|>, <|start_header_id|>
    r"|<｜[^｜>\n]{1,40}｜>"  # DeepSeek's full-width bars
    r"|<(?:start|end)_of_turn>"
    r"|</?(?:s|pad|unk|bos|eos|mask)>"
    r"|\[/?INST\]"
    r"|<</?SYS>>"
)

# Scripts named in Unicode character names; kana and Han ideographs count as one script (CJK),
# because Japanese mixes them in every sentence.
_SCRIPTS = frozenset(
    {
        *("LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "ARMENIAN", "GEORGIAN", "ETHIOPIC"),
        *("DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "TAMIL", "TELUGU", "KANNADA"),
        *("MALAYALAM", "SINHALA", "THAI", "LAO", "TIBETAN", "KHMER", "MYANMAR"),
        *("HANGUL", "HIRAGANA", "KATAKANA", "CJK"),
    }
)
_CJK_GROUP = frozenset({"CJK", "HIRAGANA", "KATAKANA"})

_LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_STRUCTURE_LINE = re.compile(r"^\s*(?:`{3,}|~{3,}|[-*_=]{3,}\s*$|\|?\s*:?-{2,})")
_MIN_REPEATED_CHARS = 20  # shorter lines ("---", "}", "N/A") legitimately repeat
_MIN_REPEATED_WORDS = 4
_MIN_LOOP_REPEATS = 4
_MAX_LOOP_PERIOD = 8


@dataclass(frozen=True, slots=True)
class JunkFinding:
    """One piece of junk: what kind, the text that shows it, and its 1-based line."""

    kind: JunkKind
    evidence: str
    line: int


def find_junk(text: str) -> list[JunkFinding]:
    """Every control token, stray foreign-script run and repetition in ``text``, by line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = [
        JunkFinding("control-token", m.group(0), number)
        for number, line in enumerate(lines, 1)
        for m in CONTROL_TOKEN.finditer(line)
    ]
    found += _foreign_script(lines)
    found += _repetition(lines)
    return sorted(found, key=lambda f: (f.line, f.kind))


# --- scripts -------------------------------------------------------------------------------


def script_of(ch: str) -> str | None:
    """The script of a letter (LATIN, CYRILLIC, CJK, ...); None for non-letters and symbols."""
    if not ch.isalpha():
        return None
    if ch.isascii():
        return "LATIN"
    words = unicodedata.name(ch, "").split()
    for word in words[:3]:
        if word in _SCRIPTS:
            return "CJK" if word in _CJK_GROUP else word
    return None  # MICRO SIGN, ORDINAL INDICATORs and the like belong to no script


def dominant_script(text: str) -> str | None:
    """The script with the most letters in ``text``; None when it has no letters."""
    counts = Counter(s for s in map(script_of, text) if s is not None)
    return counts.most_common(1)[0][0] if counts else None


def _foreign_script(lines: list[str]) -> list[JunkFinding]:
    dominant = dominant_script("\n".join(lines))
    if dominant is None:
        return []
    # Latin product names, units and code are normal in text written in any other script.
    tolerated = {dominant, "LATIN"}
    found: list[JunkFinding] = []
    for number, line in enumerate(lines, 1):
        for script, start, end, letters in _runs(line):
            if script in tolerated:
                continue
            if script == "GREEK" and letters == 1:
                continue  # a lone μ, σ or Δ is a symbol in technical prose
            found.append(JunkFinding("foreign-script", f"{script}: {line[start:end]}", number))
    return found


def _runs(line: str) -> list[tuple[str, int, int, int]]:
    """Maximal runs of letters of one script: (script, start, end, letter count).

    Non-letters inside a run (spaces, punctuation) do not break it; a letter of another script
    does, so "dаta" with a Cyrillic "а" yields three runs.
    """
    runs: list[tuple[str, int, int, int]] = []
    current: tuple[str, int, int, int] | None = None
    for i, ch in enumerate(line):
        script = script_of(ch)
        if script is None:
            continue
        if current is not None and current[0] == script:
            current = (script, current[1], i + 1, current[3] + 1)
            continue
        if current is not None:
            runs.append(current)
        current = (script, i, i + 1, 1)
    if current is not None:
        runs.append(current)
    return runs


# --- repetition ----------------------------------------------------------------------------


def _norm(line: str) -> str:
    line = _LIST_MARKER.sub("", line.strip().lstrip("#>").strip())
    return " ".join(line.replace("*", "").replace("_", " ").lower().split())


def _substantial(norm: str, min_chars: int) -> bool:
    words = [w for w in norm.split() if any(c.isalpha() for c in w)]
    return len(norm) >= min_chars and len(words) >= _MIN_REPEATED_WORDS


def _repetition(lines: list[str]) -> list[JunkFinding]:
    found: list[JunkFinding] = []
    reported: set[str] = set()
    content = [
        (number, _norm(line), line.strip())
        for number, line in enumerate(lines, 1)
        if line.strip() and not _STRUCTURE_LINE.match(line)
    ]
    # A run of consecutive copies (blank lines between them allowed): a degenerate loop.
    for norm, group in itertools.groupby(content, key=lambda item: item[1]):
        copies = list(group)
        if len(copies) >= 2 and _substantial(norm, 10):
            found.append(
                JunkFinding(
                    "repetition",
                    f"{len(copies)} consecutive copies: {_short(copies[0][2])}",
                    copies[0][0],
                )
            )
            reported.add(norm)
    # The same substantial line three or more times anywhere.
    counts = Counter(norm for _, norm, _ in content)
    for number, norm, shown in content:
        if counts[norm] >= 3 and norm not in reported and _substantial(norm, _MIN_REPEATED_CHARS):
            found.append(
                JunkFinding("repetition", f"{counts[norm]} copies: {_short(shown)}", number)
            )
            reported.add(norm)
    found += _repeated_paragraphs(lines)
    found += [
        JunkFinding("repetition", evidence, number)
        for number, line in enumerate(lines, 1)
        if not line.lstrip().startswith("|")  # table rows repeat cells by design
        for evidence in [_loop_in_line(line)]
        if evidence
    ]
    return found


def _repeated_paragraphs(lines: list[str]) -> list[JunkFinding]:
    """Consecutive identical multi-line paragraphs (single lines are covered line by line)."""
    paragraphs: list[tuple[int, list[str]]] = []
    start, block = 0, list[str]()
    for number, line in enumerate([*lines, ""], 1):
        if line.strip():
            if not block:
                start = number
            block.append(_norm(line))
        elif block:
            paragraphs.append((start, block))
            block = []
    return [
        JunkFinding("repetition", f"repeated paragraph: {_short(' '.join(cur))}", first)
        for (first, prev), (_, cur) in itertools.pairwise(paragraphs)
        if len(cur) >= 2 and cur == prev and _substantial(" ".join(cur), _MIN_REPEATED_CHARS)
    ]


def _loop_in_line(line: str) -> str | None:
    """A phrase of 1-8 words repeated back to back 4+ times ("the model the model ...")."""
    words = line.split()
    for period in range(1, _MAX_LOOP_PERIOD + 1):
        run = 0
        for i in range(period, len(words)):
            run = run + 1 if words[i].lower() == words[i - period].lower() else 0
            repeats = run // period + 1
            unit = words[i - run - period + 1 : i - run + 1]
            if (
                repeats >= _MIN_LOOP_REPEATS
                and period * repeats >= 8
                and any(c.isalpha() for w in unit for c in w)
            ):
                return f"loop of {' '.join(unit)!r} x{repeats}+"
    return None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
