"""Find junk in LLM text: leaked control tokens, stray text in another script, repetition (pure).

Text echoed from the prompt's instructions is junk too (kind ``echo``); it is found against the
instructions in chimera.agent.echo, which the caller composes with this module."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from chimera.agent.repetition import find_repetition

JunkKind = Literal["control-token", "foreign-script", "repetition", "echo"]

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
    found += [JunkFinding("repetition", r.evidence, r.line) for r in find_repetition(text)]
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
