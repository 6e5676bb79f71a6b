"""Reading the claims of a text (pure): every number that states a measurement, with its
unit, precision, sentence, line and the subject that labels it."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, replace

from chimera.agent.factcheck.grammar import (
    ATTACHED,
    COMPOUND,
    COUNT_NOUN,
    DATA_BEFORE,
    DATA_LANGS,
    DESCRIPTORS,
    EXPONENT,
    FENCE,
    IMPERATIVE,
    LABEL,
    LEADING_MARKER,
    MASKS,
    MODEL_SIZE,
    MULTIPLIER,
    NUMBER,
    PROSE_LANGS,
    QUOTED,
    RANGE_AHEAD,
    RANGE_JOIN,
    SCALE,
    SCALES,
    SENTENCE_BREAK,
    SMALL_INT,
    SUBJECT_AFTER,
    SUBJECT_BEFORE,
    TARGET_BEFORE,
    YEAR_CONTEXT,
)
from chimera.agent.factcheck.values import NumberClaim
from chimera.agent.junk import CONTROL_TOKEN
from chimera.agent.mdtext import strip_markdown
from chimera.quantities import ALIASES, UNIT_AFTER


def extract_numbers(text: str) -> list[NumberClaim]:
    """Every number in ``text`` that states a measurement, in order (see docs/factcheck.md
    for what is not one: dates, ordinals, versions, names, small counts, code)."""
    return scan(text)[0]


def scan(text: str) -> tuple[list[NumberClaim], Counter[str]]:
    claims: list[NumberClaim] = []
    ignored: Counter[str] = Counter()
    fence: str | None = None  # the language of the open fence, "" when unlabelled
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if match := FENCE.match(line):
            fence = match.group(1).lower() if fence is None else None
            continue
        if fence is not None and fence not in DATA_LANGS | PROSE_LANGS:
            ignored["code"] += len(NUMBER.findall(line))
            continue
        work = line
        if fence in DATA_LANGS:
            work = _blank(work, QUOTED, "quoted", ignored)
        for kind, pattern in MASKS:
            work = _blank(work, pattern, kind, ignored)
        claims += _claims_in_line(line, work, number, ignored)
    return claims, ignored


def _blank(work: str, pattern: re.Pattern[str], kind: str, ignored: Counter[str]) -> str:
    def spaces(m: re.Match[str]) -> str:
        if any(c.isdigit() for c in m.group(0)):
            ignored[kind] += 1
        return " " * len(m.group(0))

    return pattern.sub(spaces, work)


@dataclass(slots=True)
class _Read:
    """One number as written: value and precision in ``unit``, and where it ends."""

    value: float
    precision: float
    unit: str | None
    end: int
    plain_int: bool  # no decimals, separators, scale or unit: maybe a count or a year


def _read(work: str, m: re.Match[str]) -> _Read | str:
    """The number at ``m`` with its exponent, scale and unit; or why it is not a claim."""
    start, end = m.start(), m.end()
    before = work[start - 1] if start else " "
    if (
        before.isalpha()
        or before == "_"
        or (before == "-" and work[start - 2 : start - 1].isalpha())
    ):
        return "identifier"  # gemma3, tokens_p99, GPT-4
    digits = m.group(0)
    try:
        value, precision = float(digits.replace(",", "")), _precision(digits)
        if exp := EXPONENT.match(work, end):
            value, precision = (
                value * 10.0 ** int(exp.group(0)[1:]),
                precision * 10.0 ** int(exp.group(0)[1:]),
            )
            end = exp.end()
    except (OverflowError, ValueError):  # 1e999, or more digits than int() will read
        return "out-of-range"
    unit: str | None = None
    if (sc := SCALE.match(work, end)) and not UNIT_AFTER.match(work, end):
        factor = SCALES[sc.group("s") or sc.group("w")]
        value, precision, end = value * factor, precision * factor, sc.end()
    if u := UNIT_AFTER.match(work, end):
        unit, end = ALIASES[u.group("u")], u.end()
    elif x := MULTIPLIER.match(work, end):
        unit, end = "x", x.end()
    elif MODEL_SIZE.match(work, end) and not sc:
        return "model"
    elif ATTACHED.match(work, end):
        return "identifier"
    elif (c := COMPOUND.match(work, end)) and c.group(1).lower() in DESCRIPTORS:
        return "identifier"  # 16-bit weights, 5-shot prompts
    elif c and c.group(1) in ALIASES:
        unit, end = ALIASES[c.group(1)], c.end()
    if not (math.isfinite(value) and math.isfinite(precision)):
        return "out-of-range"  # past 1.8e308 (with its scale): no measurement, and no arithmetic
    plain = "." not in digits and "," not in digits and unit is None and precision == 1.0
    return _Read(value, precision, unit, end, plain and not sc and not exp)


def _claims_in_line(line: str, work: str, number: int, ignored: Counter[str]) -> list[NumberClaim]:
    found: list[NumberClaim] = []
    held: NumberClaim | None = None  # a small integer that may open a range ("10-15%")
    prev_end = -1
    for m in NUMBER.finditer(work):
        read = _read(work, m)
        if isinstance(read, str):
            ignored[read] += 1
            continue
        start = m.start()
        in_range = prev_end >= 0 and bool(RANGE_JOIN.fullmatch(work[prev_end:start]))
        if held is not None and not in_range:
            ignored["small-count"] += 1  # the range never came: a count in prose after all
            found.remove(held)
            held = None
        negative = not in_range and work[start - 1 : start] in ("-", "−")
        negative = negative and not work[start - 2 : start - 1].isalnum()
        if negative:
            start, read.value = start - 1, -read.value
        # "JSON: 8" and "temp=1" state data; "3 recommendations" counts words in prose.
        small = (
            read.plain_int and abs(read.value) <= SMALL_INT and not DATA_BEFORE.search(work[:start])
        )
        if in_range and found and read.unit is not None and found[-1].unit is None:
            first = found[-1]
            raw = f"{first.raw} {read.unit}"
            found[-1] = replace(first, unit=read.unit, is_percent=read.unit == "%", raw=raw)
            held = None
        elif small and not in_range and RANGE_AHEAD.match(work, read.end):
            pass  # decided when the range's second number shows its unit
        elif small:
            ignored["small-count"] += 1
            continue
        elif (
            read.plain_int
            and 1900 <= read.value <= 2100
            and _looks_like_year(work, start, read.end)
        ):
            ignored["date"] += 1
            continue
        elif _is_proposal(line, start):
            ignored["proposal"] += 1
            continue
        claim = NumberClaim(
            value=read.value,
            raw=line[start : read.end].strip(),
            unit=read.unit,
            is_percent=read.unit == "%",
            sentence=_sentence(line, start),
            line=number,
            precision=read.precision,
            subject=_subject(work, start, read.end),
        )
        found.append(claim)
        held = claim if small and not in_range else None
        prev_end = read.end
    if held is not None:
        ignored["small-count"] += 1
        found.remove(held)
    return found


def _subject(work: str, start: int, end: int) -> str | None:
    if m := SUBJECT_BEFORE.search(work[:start]):
        return m.group(1).lower()
    if m := SUBJECT_AFTER.match(work, end):
        return m.group(1).lower()
    return None


def _precision(digits: str) -> float:
    """Place value of the last digit written; trailing zeros of a large integer count as
    rounding ("1,200" is 1.2 thousand) as long as that stays within 5% of the value."""
    if "." in digits:
        return 10.0 ** -len(digits.split(".")[1])
    plain = digits.replace(",", "")
    value = int(plain)
    if value < 1000:
        return 1.0
    zeros = len(plain) - len(plain.rstrip("0"))
    for k in range(zeros, 0, -1):
        if 0.5 * 10**k <= 0.05 * value:
            return float(10**k)
    return 1.0


def _looks_like_year(work: str, start: int, end: int) -> bool:
    before = work[:start].rstrip()
    if before.endswith(("=", ":")) or COUNT_NOUN.match(work, end):
        return False
    return not YEAR_CONTEXT.search(" ".join(before.split()[-2:]))


def _sentence_span(line: str, pos: int) -> tuple[int, int]:
    bounds = [0, *(m.end() for m in SENTENCE_BREAK.finditer(line)), len(line) + 1]
    return next((a, b) for a, b in itertools.pairwise(bounds) if a <= pos < b)


def _sentence(line: str, pos: int) -> str:
    a, b = _sentence_span(line, pos)
    text = LEADING_MARKER.sub("", CONTROL_TOKEN.sub("", line[a:b]))
    return strip_markdown(text.strip().strip("|").replace("|", " | "))


def _is_proposal(line: str, pos: int) -> bool:
    """A value an imperative sentence proposes ("Raise num_ctx to 4096", "Keep temperature
    at 0.7"): advice, not a statement about the data."""
    head = strip_markdown(LEADING_MARKER.sub("", line[_sentence_span(line, pos)[0] : pos]))
    head = LABEL.sub("", head, count=1)  # "Increase Context: Raise num_ctx to"
    return bool(IMPERATIVE.match(head) and TARGET_BEFORE.search(head))
