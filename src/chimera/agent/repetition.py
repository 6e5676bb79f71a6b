"""Find repetition in LLM text: copied lines and paragraphs, near-duplicate sentences and
items, phrases looping within a line; and measure how much of the text repeats (pure)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass

_LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_STRUCTURE_LINE = re.compile(r"^\s*(?:`{3,}|~{3,}|[-*_=]{3,}\s*$|\|?\s*:?-{2,})")
_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+(?:[._:/-][a-z0-9]+)*")
_MIN_REPEATED_CHARS = 20  # shorter lines ("---", "}", "N/A") legitimately repeat
_MIN_REPEATED_WORDS = 4
_MIN_LOOP_REPEATS = 4
_MAX_LOOP_PERIOD = 8
# Sentences sharing this share of their content words (Jaccard) say the same thing; parallel
# bullets that differ in a model, a setting and a figure share about a third.
NEAR_DUPLICATE = 0.75
_MIN_UNIT_WORDS = 4  # content words a sentence needs before its copies count
_MIN_PASSAGE = 3  # consecutive repeating sentences that make a repeated passage
# Words too common to tell two sentences apart; also kept out of the candidate index.
_COMMON_WORDS = (
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were will with which we our can may"
)
_STOPWORDS = frozenset(_COMMON_WORDS.split())


@dataclass(frozen=True, slots=True)
class Repeat:
    """One piece of repetition: what shows it, and its 1-based line."""

    evidence: str
    line: int


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence (or list item) of prose: its line, its text and its content words."""

    line: int
    text: str
    words: frozenset[str]
    size: int  # words as written, for the share of text repeated


def find_repetition(text: str) -> list[Repeat]:
    """Every repeated line, paragraph, near-duplicate sentence or item, and looping phrase."""
    lines = _lines(text)
    found, covered = _repeated_lines(lines)
    found += _repeated_paragraphs(lines)
    found += _near_copies(_units(lines), covered)
    found += [
        Repeat(f"loop of {' '.join(unit)!r} x{repeats}+", number)
        for number, line in enumerate(lines, 1)
        if not line.lstrip().startswith("|")  # table rows repeat cells by design
        for unit, repeats in [_loop_in_line(line)]
        if unit
    ]
    return sorted(found, key=lambda r: r.line)


def repeated_share(text: str) -> float:
    """The share (0..1) of the words of ``text`` that repeat earlier text: sentences and items
    that copy or nearly copy an earlier one, and the extra turns of a looping phrase."""
    total = len(text.split())
    if total == 0:
        return 0.0
    lines = _lines(text)
    units = _units(lines)
    repeated = sum(
        units[i].size for i, earlier in enumerate(_earlier_copy(units)) if earlier is not None
    )
    for line in lines:
        unit, repeats = _loop_in_line(line)
        repeated += len(unit) * (repeats - 1)
    return min(1.0, repeated / total)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _norm(line: str) -> str:
    line = _LIST_MARKER.sub("", line.strip().lstrip("#>").strip())
    return " ".join(line.replace("*", "").replace("_", " ").lower().split())


def _substantial(norm: str, min_chars: int) -> bool:
    words = [w for w in norm.split() if any(c.isalpha() for c in w)]
    return len(norm) >= min_chars and len(words) >= _MIN_REPEATED_WORDS


# --- whole lines and paragraphs --------------------------------------------------------------


def _repeated_lines(lines: list[str]) -> tuple[list[Repeat], set[int]]:
    """Consecutive copies of a line, and a line three or more times anywhere; with the
    numbers of every line these findings cover (their near-copy clusters are not reported
    again)."""
    found: list[Repeat] = []
    covered: set[int] = set()
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
                Repeat(f"{len(copies)} consecutive copies: {_short(copies[0][2])}", copies[0][0])
            )
            reported.add(norm)
    # The same substantial line three or more times anywhere.
    counts = Counter(norm for _, norm, _ in content)
    for number, norm, shown in content:
        if counts[norm] >= 3 and norm not in reported and _substantial(norm, _MIN_REPEATED_CHARS):
            found.append(Repeat(f"{counts[norm]} copies: {_short(shown)}", number))
            reported.add(norm)
    covered = {number for number, norm, _ in content if norm in reported}
    return found, covered


def _repeated_paragraphs(lines: list[str]) -> list[Repeat]:
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
        Repeat(f"repeated paragraph: {_short(' '.join(cur))}", first)
        for (first, prev), (_, cur) in itertools.pairwise(paragraphs)
        if len(cur) >= 2 and cur == prev and _substantial(" ".join(cur), _MIN_REPEATED_CHARS)
    ]


# --- sentences and items ---------------------------------------------------------------------


def _units(lines: list[str]) -> list[_Unit]:
    """The prose sentences of ``lines``: not code, tables, rules or fence lines."""
    units: list[_Unit] = []
    in_code = False
    for number, line in enumerate(lines, 1):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code or not line.strip() or line.lstrip().startswith("|"):
            continue
        if _STRUCTURE_LINE.match(line):
            continue
        for sentence in _SENTENCE_END.split(_norm(line)):
            tokens = _WORD.findall(sentence)
            words = frozenset(t for t in tokens if t not in _STOPWORDS and len(t) > 1)
            if len(words) >= _MIN_UNIT_WORDS:
                units.append(_Unit(number, sentence, words, len(sentence.split())))
    return units


def _earlier_copy(units: list[_Unit]) -> list[int | None]:
    """For each unit, the index of an earlier unit it copies or nearly copies, else None.

    Candidates come from an index of content words, so a long text is not compared pair by
    pair."""
    postings: dict[str, list[int]] = {}
    out: list[int | None] = []
    for i, unit in enumerate(units):
        shared: Counter[int] = Counter()
        for word in unit.words:
            shared.update(postings.get(word, ()))
        match = None
        for j, n in shared.most_common():
            if n / len(unit.words | units[j].words) >= NEAR_DUPLICATE:
                match = j
                break
            if n / len(unit.words) < NEAR_DUPLICATE:
                break  # the rest share even fewer words
        out.append(match)
        for word in unit.words:
            postings.setdefault(word, []).append(i)
    return out


def _near_copies(units: list[_Unit], covered: set[int]) -> list[Repeat]:
    """A sentence with two or more (near-)copies anywhere, and a sentence or item that nearly
    copies the one just before it. Exact line copies found line by line are not repeated."""
    root: list[int] = []
    for i, earlier in enumerate(_earlier_copy(units)):
        root.append(i if earlier is None else root[earlier])
    clusters: dict[int, list[int]] = {}
    for i, r in enumerate(root):
        clusters.setdefault(r, []).append(i)
    found: list[Repeat] = []
    reported: set[int] = set()
    for first, members in clusters.items():
        lines = {units[i].line for i in members}
        if len(members) < 2 or lines <= covered:
            continue
        shown = _short(units[first].text)
        if len(members) >= 3:
            found.append(Repeat(f"{len(members)} near-copies: {shown}", units[first].line))
            reported.update(members)
            continue
        a, b = members
        if b == a + 1 and units[a].text != units[b].text:
            found.append(Repeat(f"near-duplicate items: {shown}", units[a].line))
            reported.update(members)
    return found + _passages(units, root, reported | _on_lines(units, covered))


def _on_lines(units: list[_Unit], lines: set[int]) -> set[int]:
    return {i for i, unit in enumerate(units) if unit.line in lines}


def _passages(units: list[_Unit], root: list[int], reported: set[int]) -> list[Repeat]:
    """Runs of ``_MIN_PASSAGE`` or more consecutive sentences that each repeat earlier text
    (a section or the whole report written twice), not already reported sentence by
    sentence."""
    found: list[Repeat] = []
    run: list[int] = []
    for i in [*range(len(units)), -1]:
        if i >= 0 and root[i] != i and i not in reported:
            run.append(i)
            continue
        if len(run) >= _MIN_PASSAGE:
            first = units[run[0]]
            found.append(
                Repeat(
                    f"repeated passage of {len(run)} sentences: {_short(first.text)}", first.line
                )
            )
        run = []
    return found


# --- loops within a line ---------------------------------------------------------------------


def _loop_in_line(line: str) -> tuple[list[str], int]:
    """A phrase of 1-8 words repeated back to back 4+ times ("the model the model ..."), with
    how many times; ([], 0) when there is none."""
    words = line.split()
    for period in range(1, _MAX_LOOP_PERIOD + 1):
        run, best = 0, (list[str](), 0)
        for i in range(period, len(words)):
            run = run + 1 if words[i].lower() == words[i - period].lower() else 0
            repeats = run // period + 1
            unit = words[i - run - period + 1 : i - run + 1]
            if (
                repeats >= _MIN_LOOP_REPEATS
                and period * repeats >= 8
                and any(c.isalpha() for w in unit for c in w)
                and repeats > best[1]
            ):
                best = (unit, repeats)
        if best[1]:
            return best
    return [], 0


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
