"""Check every number in an LLM's text against known facts, aware of rounding, units and
percentages (pure). The rules are written out in docs/factcheck.md."""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chimera.agent.junk import CONTROL_TOKEN
from chimera.agent.parse import strip_markdown

Status = Literal["grounded", "unsupported"]
How = Literal["exact", "rounded", "unit-converted", "percent", "derived"]


@dataclass(frozen=True, slots=True)
class KnownNumber:
    """A fact the caller vouches for: an inventory count, a statistic, a setting, a metric.

    ``unit`` is one of the units in docs/factcheck.md ("ms", "s", "tok/s", "GB", "%", "x",
    "ratio", ...) or any other word ("files"); None for a bare count or setting.
    """

    value: float
    label: str
    unit: str | None = None
    # May this fact enter derived values (shares, changes, multiples)? False for numbers that
    # were merely seen in a text: pairing them with everything else grounds noise.
    derivable: bool = True
    # (metric, subject, condition), e.g. ("tokens_per_s", model, configuration): when both
    # facts of a pair have one, they are related only if the metric is the same and exactly
    # one of subject and condition differs. Without it, labels decide (see _related).
    key: tuple[str, str, str] | None = None
    # The word a text labels this number with directly ("Markdown: 29", "29 Markdown files"),
    # lower case. A claim labelled with a subject some facts have is checked against those
    # facts only: "Markdown: 13" is false when there are 29 Markdown files, whatever else is 13.
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class NumberClaim:
    """A number the text states. ``value`` is in ``unit`` (canonical: "ms", "tok/s", "GB",
    "%", ...; None when none was written); ``precision`` is the place value of the last
    digit written (0.01 for "108.26", 100 for "1.2k"); ``line`` is 1-based."""

    value: float
    raw: str
    unit: str | None
    is_percent: bool
    sentence: str
    line: int
    precision: float = 1.0
    subject: str | None = None  # the word labelling it directly, lower case: see KnownNumber


@dataclass(frozen=True, slots=True)
class CheckedClaim:
    """A claim and its verdict: the known number (or derivation) it matched, and how."""

    claim: NumberClaim
    status: Status
    matched: str | None = None
    how: How | None = None


class FactCheck(BaseModel):
    """Every claim with its verdict, how many numbers were not claims, and the share grounded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claims: list[CheckedClaim]
    ignored: int
    ignored_kinds: dict[str, int]  # why numbers were not checked: date, ordinal, version, ...
    grounded_ratio: float | None  # None when the text made no checkable claim

    @property
    def unsupported(self) -> list[CheckedClaim]:
        return [c for c in self.claims if c.status == "unsupported"]

    @property
    def grounded(self) -> list[CheckedClaim]:
        return [c for c in self.claims if c.status == "grounded"]


# --- units ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    kind: str  # time, throughput, bytes, percent, multiplier, fraction, none, or other:<word>
    factor: float = 1.0  # to the kind's base unit (s, tok/s, bytes, ...)
    power: int = 0  # bytes: 1 for K, 2 for M, ...
    binary: bool = False  # bytes: KiB/MiB/GiB rather than KB/MB/GB


_CANONICAL: dict[str, _Unit] = {
    "ns": _Unit("time", 1e-9),
    "us": _Unit("time", 1e-6),
    "ms": _Unit("time", 1e-3),
    "s": _Unit("time"),
    "min": _Unit("time", 60.0),
    "h": _Unit("time", 3600.0),
    "tok/s": _Unit("throughput"),
    "ms/tok": _Unit("token-latency", 1e-3),
    "GB/s": _Unit("bandwidth", 1e9),
    "MB/s": _Unit("bandwidth", 1e6),
    "B": _Unit("bytes"),
    **{f"{p}B": _Unit("bytes", 1000.0**n, n) for n, p in enumerate("KMGT", 1)},
    **{f"{p}iB": _Unit("bytes", 1024.0**n, n, binary=True) for n, p in enumerate("KMGT", 1)},
    "%": _Unit("percent"),
    "x": _Unit("multiplier"),
    "ratio": _Unit("fraction"),
}
_THROUGHPUT_ALIASES = (
    *("tok/s", "tokens/s", "token/s", "tok/sec", "tokens/sec", "tokens/second"),
    *("tokens per second", "tokens per sec", "t/s", "tps"),
)
_ALIASES: dict[str, str] = {
    **dict.fromkeys(("ns", "nanosecond", "nanoseconds"), "ns"),
    **dict.fromkeys(("us", "µs", "μs", "microsecond", "microseconds"), "us"),
    **dict.fromkeys(("ms", "msec", "millisecond", "milliseconds"), "ms"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(_THROUGHPUT_ALIASES, "tok/s"),
    **dict.fromkeys(("ms/tok", "ms/token", "ms per token"), "ms/tok"),
    **dict.fromkeys(("GB/s", "GB/sec"), "GB/s"),
    **dict.fromkeys(("MB/s", "MB/sec"), "MB/s"),
    **dict.fromkeys(("bytes", "byte"), "B"),
    **{f"{p}B": f"{p}B" for p in "KMGT"},
    "kB": "KB",
    "kb": "KB",
    "mb": "MB",
    "gb": "GB",
    **{f"{p}iB": f"{p}iB" for p in "KMGT"},
    **dict.fromkeys(("%", "percent", "per cent", "pct"), "%"),
    **dict.fromkeys(("x", "×"), "x"),
    **dict.fromkeys(("ratio", "fraction"), "ratio"),
}
# Units as written after a number: longest first so "tokens/s" wins over "tokens"-less "s".
_UNIT_AFTER = re.compile(
    r"\s{0,2}(?P<u>"
    + "|".join(
        re.escape(a)
        for a in sorted(_ALIASES, key=len, reverse=True)
        if a not in {"x", "×", "ratio", "fraction", "byte"}
    )
    + r")(?![\w/])"
)


def _unit(name: str | None) -> _Unit:
    if name is None:
        return _Unit("none")
    canonical = _ALIASES.get(name) or _ALIASES.get(name.strip().lower())
    return _CANONICAL[canonical] if canonical else _Unit(f"other:{name.strip().lower()}")


# --- what is not a claim -------------------------------------------------------------------

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b\.?"
)
_FAMILY = (
    r"(?:gemma|llama|codellama|tinyllama|qwen|mistral|mixtral|phi|deepseek|granite|starcoder"
    r"|falcon|vicuna|smollm|olmo|gpt|claude|nemotron|zephyr|internlm|baichuan|chatglm|glm)"
)
# Applied in order to each line; each span is blanked so later patterns and the number scan
# never see it. A span counts once in FactCheck.ignored_kinds when it holds a digit.
_MASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("control-token", CONTROL_TOKEN),
    ("url", re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+")),
    ("date", re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}/\d{1,2}/\d{1,2}\b")),
    (
        "path",
        re.compile(
            r"(?:~|\.{1,2})?/?(?:[\w.-]+/)+[\w.-]*\.[A-Za-z]\w{0,8}\b"
            r"|(?:[\w.-]+/){2,}[\w.-]*|\b[A-Za-z]:\\\S+"
        ),
    ),
    (
        "file",
        re.compile(
            r"\b[\w-]+(?:\.[\w-]+)*\.(?:jsonl?|csv|tsv|md|txt|py|log|ya?ml|toml|gguf|bin"
            r"|safetensors|parquet|html?|ipynb|sh|xlsx|pdf|png|jpe?g|svg|zip|gz|tar)\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z\b|[+-]\d{2}:?\d{2})?)?"
        ),
    ),
    (
        "date",
        re.compile(r"\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[-_T]?\d{4,6})?\b"),
    ),
    (
        "date",
        re.compile(
            rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}}\b)?"
            rf"|\b{_MONTH}\s+\d{{4}}\b"
        ),
    ),
    ("date", re.compile(r"\b(?:Q[1-4]|H[12]|FY)\s?'?\d{2,4}\b")),
    (
        "time",
        re.compile(
            r"\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\b\.?)?(?:\s*(?:UTC|GMT)\b)?"
            r"|\b\d{1,2}\s*[AaPp]\.?[Mm]\b\.?"
        ),
    ),
    (
        "version",
        re.compile(
            r"\b[vV]\d+(?:\.\d+)*\b|\b\d+\.\d+\.\d+(?:\.\d+)*\b"
            r"|\b(?:version|ver\.|python|cuda|cudnn|ollama|pytorch|torch|transformers|llama\.cpp"
            r"|rocm|driver|ubuntu|macos|windows|release|node|numpy|vllm)\s+v?\d+(?:\.\d+)*\b",
            re.I,
        ),
    ),
    (
        "model",
        re.compile(
            r"\b[A-Za-z][\w.-]*\d[\w.-]*:[\w.-]+"  # gemma3:1b, qwen2.5:7b, llama3.1:latest
            r"|\b[A-Za-z][\w.-]*:(?:\d+(?:\.\d+)?[bBmMkK]\b|latest\b)[\w.-]*"  # mistral:7b
        ),
    ),
    (
        "model",
        re.compile(
            rf"\b{_FAMILY}[\w.:-]*(?:\s+\d(?:\.\d)?(?![\d.]))?(?:[\s_-]+\d+(?:\.\d+)?[bBmMkK]\b)?",
            re.I,
        ),
    ),
    (
        "model",
        re.compile(
            r"\b(?:RTX|GTX|RX|Quadro|Tesla|Radeon|GeForce|Titan|Arc)\s+[A-Z]?\d{2,5}\w*"
            r"|\bRyzen\s+\d\s+\d{3,5}\w*"
        ),
    ),
    (
        "ordinal",
        re.compile(
            r"^\s*(?:>\s*)*(?:[-*+•]\s+)?(?:\*\*|__)?\(?\d{1,3}(?:\.\d{1,2})*[.)](?=\s|\*\*|__|$)"
            r"|^\s*#{1,6}\s*(?:\*\*|__)?\s*\d{1,3}(?:\.\d{1,2})*\b"
        ),
    ),
    (
        "ordinal",
        re.compile(
            r"\b(?:(?i:step|section|phase|part|table|figure|fig\.|option|recommendation|finding"
            r"|chapter|appendix|stage|tier|priority|iteration|scenario|question|experiment|epoch"
            r"|page|slide)|Run|Test|Trial|Round|Rank|Level|Row|Line|Column|Item|Agent|Case|Day"
            r"|Week)\s*#?\s*\d+\b"
            r"|#\d+\b|\b\d+(?:st|nd|rd|th)\b|\[\d+\]|\^\d+"
        ),
    ),
)
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_DATA_LANGS = frozenset({"json", "jsonc", "json5", "yaml", "yml", "toml", "ini"})
_PROSE_LANGS = frozenset({"", "csv", "tsv", "text", "txt", "plaintext", "markdown", "md"})
_FENCE = re.compile(r"^\s{0,3}(?:`{3,}|~{3,})\s*([^\s`]*)")
_NUMBER = re.compile(r"(?<![\d.])(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+)(?:\.\d+)?|(?<![\w.])\.\d+")
_EXPONENT = re.compile(r"[eE][-+]?\d+(?![\w])")
_SCALE = re.compile(r"(?P<s>[kK]|M)(?![A-Za-z0-9])|\s+(?P<w>thousand|million|billion)\b")
_SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_MULTIPLIER = re.compile(r"[x×](?![A-Za-z0-9])")
_MODEL_SIZE = re.compile(r"[bBm](?![A-Za-z0-9])")  # 7B, 1b, 270m: model sizes, not amounts
_ATTACHED = re.compile(r"[A-Za-z_]|\.[A-Za-z]")  # gemma3b, x86_64, report1.json
_DESCRIPTORS = frozenset({"bit", "bits", "way", "shot"})
_COMPOUND = re.compile(r"-([A-Za-z]+)")  # "10-second", "128-token"
_RANGE_JOIN = re.compile(r"\s*(?:-|–|—|to)\s*")
_RANGE_AHEAD = re.compile(r"\s*(?:-|–|—|to)\s*\.?\d")
_SMALL_INT = 10
_DATA_BEFORE = re.compile(r"[:=][\s*_`]*$")
# "Markdown: 13", "**JSON**: 88", "13 Markdown files": the word that labels a number directly.
# "CSV: 28 (28%)": the share in parentheses has the count's subject.
_SUBJECT_BEFORE = re.compile(r"\b([A-Za-z][A-Za-z0-9]*)[*_`]*\s*[:=][\s*_`]*(?:[\d.,]+\s*\(\s*)?$")
_SUBJECT_AFTER = re.compile(r"\s+([A-Za-z][A-Za-z0-9]*)\s+files?\b")
_YEAR_CONTEXT = re.compile(r"\b(?:ctx|context|window|length|size|batch|max|limit|num_\w+)\b", re.I)
_COUNT_NOUN = re.compile(
    r"\s+(?:tokens?|files?|rows?|requests?|runs?|samples?|items?|records?|entries|prompts?"
    r"|words?|characters?|calls?|steps?|iterations?)\b",
    re.I,
)
_IMPERATIVE = re.compile(
    r"(?i:raise|set|increase|reduce|lower|decrease|keep|try|use|cap|limit|switch|move|bump"
    r"|change|adjust|tune|consider|enable|target|aim|allocate|double|halve|pin|restrict"
    r"|experiment|test|benchmark|start|run|configure|update|upgrade|downgrade)\b"
)
_TARGET_BEFORE = re.compile(r"(?:\b(?:to|at|by|around|about|under|below|above|over)|=)\s*$")
_LABEL = re.compile(r"^[^:]{1,40}:\s+(?=\S)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_\"'(\[`])")
_LEADING_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")


def extract_numbers(text: str) -> list[NumberClaim]:
    """Every number in ``text`` that states a measurement, in order (see docs/factcheck.md
    for what is not one: dates, ordinals, versions, names, small counts, code)."""
    return _scan(text)[0]


def _scan(text: str) -> tuple[list[NumberClaim], Counter[str]]:
    claims: list[NumberClaim] = []
    ignored: Counter[str] = Counter()
    fence: str | None = None  # the language of the open fence, "" when unlabelled
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if match := _FENCE.match(line):
            fence = match.group(1).lower() if fence is None else None
            continue
        if fence is not None and fence not in _DATA_LANGS | _PROSE_LANGS:
            ignored["code"] += len(_NUMBER.findall(line))
            continue
        work = line
        if fence in _DATA_LANGS:
            work = _blank(work, _QUOTED, "quoted", ignored)
        for kind, pattern in _MASKS:
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
        if exp := _EXPONENT.match(work, end):
            value, precision = (
                value * 10.0 ** int(exp.group(0)[1:]),
                precision * 10.0 ** int(exp.group(0)[1:]),
            )
            end = exp.end()
    except (OverflowError, ValueError):  # 1e999, or more digits than int() will read
        return "out-of-range"
    unit: str | None = None
    if (sc := _SCALE.match(work, end)) and not _UNIT_AFTER.match(work, end):
        factor = _SCALES[sc.group("s") or sc.group("w")]
        value, precision, end = value * factor, precision * factor, sc.end()
    if u := _UNIT_AFTER.match(work, end):
        unit, end = _ALIASES[u.group("u")], u.end()
    elif x := _MULTIPLIER.match(work, end):
        unit, end = "x", x.end()
    elif _MODEL_SIZE.match(work, end) and not sc:
        return "model"
    elif _ATTACHED.match(work, end):
        return "identifier"
    elif (c := _COMPOUND.match(work, end)) and c.group(1).lower() in _DESCRIPTORS:
        return "identifier"  # 16-bit weights, 5-shot prompts
    elif c and c.group(1) in _ALIASES:
        unit, end = _ALIASES[c.group(1)], c.end()
    if not (math.isfinite(value) and math.isfinite(precision)):
        return "out-of-range"  # past 1.8e308 (with its scale): no measurement, and no arithmetic
    plain = "." not in digits and "," not in digits and unit is None and precision == 1.0
    return _Read(value, precision, unit, end, plain and not sc and not exp)


def _claims_in_line(line: str, work: str, number: int, ignored: Counter[str]) -> list[NumberClaim]:
    found: list[NumberClaim] = []
    held: NumberClaim | None = None  # a small integer that may open a range ("10-15%")
    prev_end = -1
    for m in _NUMBER.finditer(work):
        read = _read(work, m)
        if isinstance(read, str):
            ignored[read] += 1
            continue
        start = m.start()
        in_range = prev_end >= 0 and bool(_RANGE_JOIN.fullmatch(work[prev_end:start]))
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
            read.plain_int
            and abs(read.value) <= _SMALL_INT
            and not _DATA_BEFORE.search(work[:start])
        )
        if in_range and found and read.unit is not None and found[-1].unit is None:
            first = found[-1]
            raw = f"{first.raw} {read.unit}"
            found[-1] = replace(first, unit=read.unit, is_percent=read.unit == "%", raw=raw)
            held = None
        elif small and not in_range and _RANGE_AHEAD.match(work, read.end):
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
    if m := _SUBJECT_BEFORE.search(work[:start]):
        return m.group(1).lower()
    if m := _SUBJECT_AFTER.match(work, end):
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
    if before.endswith(("=", ":")) or _COUNT_NOUN.match(work, end):
        return False
    return not _YEAR_CONTEXT.search(" ".join(before.split()[-2:]))


def _sentence_span(line: str, pos: int) -> tuple[int, int]:
    bounds = [0, *(m.end() for m in _SENTENCE_BREAK.finditer(line)), len(line) + 1]
    return next((a, b) for a, b in itertools.pairwise(bounds) if a <= pos < b)


def _sentence(line: str, pos: int) -> str:
    a, b = _sentence_span(line, pos)
    text = _LEADING_MARKER.sub("", CONTROL_TOKEN.sub("", line[a:b]))
    return strip_markdown(text.strip().strip("|").replace("|", " | "))


def _is_proposal(line: str, pos: int) -> bool:
    """A value an imperative sentence proposes ("Raise num_ctx to 4096", "Keep temperature
    at 0.7"): advice, not a statement about the data."""
    head = strip_markdown(_LEADING_MARKER.sub("", line[_sentence_span(line, pos)[0] : pos]))
    head = _LABEL.sub("", head, count=1)  # "Increase Context: Raise num_ctx to"
    return bool(_IMPERATIVE.match(head) and _TARGET_BEFORE.search(head))


# --- checking ------------------------------------------------------------------------------

_RANK: dict[How, int] = {"exact": 0, "rounded": 1, "unit-converted": 2, "percent": 3, "derived": 4}
_TOTAL = re.compile(r"\b(?:total|all)\b", re.I)


@dataclass(frozen=True, slots=True)
class _Fact:
    label: str
    value: float  # in the fact's own unit
    unit: _Unit
    words: frozenset[str]  # of the label, statistic names left out: see _related
    derivable: bool = True
    key: tuple[str, str, str] | None = None
    subject: str | None = None

    @property
    def base(self) -> float:
        return self.value * self.unit.factor


@dataclass(frozen=True, slots=True)
class _Derived:
    """Values derived from pairs of facts, sorted, so a claim finds its matches by bisection."""

    values: list[float]
    entries: list[tuple[float, How, str]]

    @classmethod
    def of(cls, entries: list[tuple[float, How, str]]) -> _Derived:
        entries.sort(key=lambda e: e[0])
        return cls([e[0] for e in entries], entries)

    def near(self, value: float, tolerance: float) -> list[tuple[float, How, str]]:
        lo = bisect.bisect_left(self.values, value - tolerance)
        hi = bisect.bisect_right(self.values, value + tolerance)
        return self.entries[lo:hi]


def check_numbers(text: str, known: Sequence[KnownNumber]) -> FactCheck:
    """Check every claim in ``text`` against ``known``; see docs/factcheck.md for the rules."""
    claims, ignored = _scan(text)
    facts = [
        _Fact(
            k.label,
            float(k.value),
            _unit(k.unit),
            _label_words(k.label),
            k.derivable,
            k.key,
            k.subject,
        )
        for k in known
    ]
    derived = _DerivedIndex(facts)
    subjects = {f.subject for f in facts if f.subject}
    checked = [
        _check(claim, derived, subject=claim.subject if claim.subject in subjects else None)
        for claim in claims
    ]
    grounded = sum(c.status == "grounded" for c in checked)
    return FactCheck(
        claims=checked,
        ignored=sum(ignored.values()),
        ignored_kinds=dict(sorted(ignored.items())),
        grounded_ratio=grounded / len(checked) if checked else None,
    )


def _check(claim: NumberClaim, derived: _DerivedIndex, subject: str | None = None) -> CheckedClaim:
    """The claim's best match; with ``subject`` (the word labelling the claim, which some
    facts have: "Markdown: 13"), only a fact, share or change whose label names it counts."""
    best: tuple[int, float, str, How] | None = None

    def consider(candidate: float, label: str, how: How, converted: bool = False) -> None:
        nonlocal best
        if subject is not None and subject not in _label_words(label):
            return
        verdict = _compare(claim.value, claim.precision, candidate)
        if verdict is None:
            return
        final: How = "unit-converted" if converted and how in ("exact", "rounded") else how
        if final == "exact" or final == "rounded":
            final = verdict
        key = (_RANK[final], abs(candidate - claim.value), label, final)
        if best is None or key[:2] < best[:2]:
            best = key

    claim_unit = _unit(claim.unit)
    tolerance = claim.precision / 2 + 1e-9 * abs(claim.value) + 1e-12
    for fact in derived.near(claim, claim_unit, tolerance):
        for candidate, converted in _comparable(claim, claim_unit, fact):
            consider(candidate, fact.label, "exact", converted)
    if claim.is_percent:
        for candidate, how, label in derived.percents(abs(claim.value), tolerance):
            consider(candidate if claim.value >= 0 else -candidate, label, how)
    elif claim_unit.kind == "multiplier":
        for candidate, how, label in derived.ratios(claim.value, tolerance):
            consider(candidate, label, how)
    if best is None:
        return CheckedClaim(claim, "unsupported")
    return CheckedClaim(claim, "grounded", matched=best[2], how=best[3])


def _comparable(claim: NumberClaim, claim_unit: _Unit, fact: _Fact) -> list[tuple[float, bool]]:
    """The fact's value in the claim's unit (with whether a conversion happened), or nothing
    when their units cannot be compared."""
    if claim.is_percent:
        return [(fact.value, False)] if fact.unit.kind == "percent" else []
    if claim_unit.kind == "none" or fact.unit.kind == "none":
        return [(fact.value, False)]
    if claim_unit.kind != fact.unit.kind:
        return []
    converted = fact.unit.factor != claim_unit.factor or fact.unit.binary != claim_unit.binary
    out = [(fact.base / claim_unit.factor, converted)]
    if claim_unit.kind == "bytes" and fact.unit.binary != claim_unit.binary:
        # "GB" is often written for GiB and the other way round: read the fact's prefix in
        # the claim's system too.
        radix = 1024.0 if claim_unit.binary else 1000.0
        out.append((fact.value * radix ** (fact.unit.power - claim_unit.power), True))
    return out


def _compare(claim: float, precision: float, candidate: float) -> How | None:
    if math.isclose(claim, candidate, rel_tol=1e-9, abs_tol=1e-12):
        return "exact"
    if abs(claim - candidate) <= precision / 2 * (1 + 1e-9) + 1e-12:
        return "rounded"
    return None


def _is_count(fact: _Fact) -> bool:
    plain = fact.unit.kind == "none" or fact.unit.kind.startswith("other:")
    return plain and fact.value >= 0 and float(fact.value).is_integer()


def _simple_percents(facts: list[_Fact]) -> _Derived:
    """Percentages that need no pair search: a ratio x100, a share of a total."""
    entries: list[tuple[float, How, str]] = []
    for fact in facts:
        if fact.unit.kind == "fraction" or (fact.unit.kind == "none" and 0 < abs(fact.value) < 1):
            entries.append((abs(fact.value) * 100, "percent", fact.label))
    facts = [f for f in facts if f.derivable]
    totals = [f for f in facts if _TOTAL.search(f.label) and f.base > 0]
    counts = [f for f in facts if _is_count(f)]
    if counts and not any(_is_count(t) for t in totals):
        largest = max(counts, key=lambda f: f.value)
        if largest.value > 0:
            totals.append(largest)  # no count is labelled a total: the largest plays it
    for total in totals:
        for part in facts:
            if part is total or part.unit.kind != total.unit.kind:
                continue
            if 0 <= part.base <= total.base:
                share = part.base / total.base * 100
                entries.append((share, "derived", f"{part.label} / {total.label}"))
    return _Derived.of(entries)


class _DerivedIndex:
    """Values derived from facts, found per claim: shares and ratios x100 from a sorted list;
    changes ("+12%") and multiples ("2.5x") between related facts by bisecting, for each fact
    ``a``, the facts ``b`` whose value the claim would need. Pair search costs n log n per
    claim instead of n squared up front."""

    def __init__(self, facts: list[_Fact]) -> None:
        self._facts = facts
        self._simple: _Derived | None = None
        self._raw = sorted(facts, key=lambda f: f.value)
        self._raw_values = [f.value for f in self._raw]
        self._plain = [f for f in self._raw if f.unit.kind == "none"]
        self._plain_values = [f.value for f in self._plain]
        groups: dict[str, list[_Fact]] = {}
        for f in facts:
            if f.derivable and f.unit.kind not in ("none", "percent", "fraction"):
                groups.setdefault(f.unit.kind, []).append(f)
        self._groups = []
        for members in groups.values():
            members.sort(key=lambda f: f.base)
            self._groups.append(([f.base for f in members], members))

    def near(self, claim: NumberClaim, unit: _Unit, tolerance: float) -> list[_Fact]:
        """The facts that can match ``claim`` directly (a superset; _comparable decides)."""
        lo, hi = claim.value - tolerance, claim.value + tolerance
        if claim.is_percent or unit.kind == "none":
            return self._raw[
                bisect.bisect_left(self._raw_values, lo) : bisect.bisect_right(self._raw_values, hi)
            ]
        out = self._plain[
            bisect.bisect_left(self._plain_values, lo) : bisect.bisect_right(self._plain_values, hi)
        ]
        for bases, members in self._groups:
            if members[0].unit.kind != unit.kind:
                continue
            if unit.kind == "bytes":
                out += members  # prefixes may be read in either radix: few, checked one by one
            else:
                x, y = sorted((lo * unit.factor, hi * unit.factor))
                out += members[bisect.bisect_left(bases, x) : bisect.bisect_right(bases, y)]
        return out

    def percents(self, value: float, tolerance: float) -> list[tuple[float, How, str]]:
        if self._simple is None:
            self._simple = _simple_percents(self._facts)
        found = list(self._simple.near(value, tolerance))
        for sign in (1.0, -1.0):  # b above or below a
            lo, hi = 1 + sign * (value - tolerance) / 100, 1 + sign * (value + tolerance) / 100
            for a, b in self._pairs(min(lo, hi), max(lo, hi)):
                change = abs(b.base - a.base) / abs(a.base) * 100
                found.append((change, "derived", f"change from {a.label} to {b.label}"))
        return found

    def ratios(self, value: float, tolerance: float) -> list[tuple[float, How, str]]:
        return [
            (b.base / a.base, "derived", f"{b.label} / {a.label}")
            for a, b in self._pairs(value - tolerance, value + tolerance)
        ]

    def _pairs(self, lo: float, hi: float) -> list[tuple[_Fact, _Fact]]:
        """Related pairs (a, b) of one unit kind with b / a within [lo, hi]."""
        out = []
        for bases, members in self._groups:
            for a in members:
                if a.base == 0:
                    continue
                x, y = sorted((a.base * lo, a.base * hi))
                for b in members[bisect.bisect_left(bases, x) : bisect.bisect_right(bases, y)]:
                    if b is not a and _related(a, b):
                        out.append((a, b))
        return out


_STAT_WORDS = frozenset(
    {"mean", "median", "avg", "average", "min", "max", "std", "stdev", "p50", "p90", "p95"}
    | {"p99", "total", "the", "of", "and", "per", "in", "for", "run", "call", "value"}
)


def _label_words(label: str) -> frozenset[str]:
    return frozenset(w for w in re.split(r"[^a-z0-9]+", label.lower()) if len(w) > 1) - _STAT_WORDS


def _related(a: _Fact, b: _Fact) -> bool:
    """Whether two facts measure the same thing (their labels share a word besides statistic
    names): "baseline TTFT" and "tuned TTFT" do, "TTFT p50" and "load p50" do not. Pairs of
    unrelated facts would otherwise ground almost any percentage by coincidence."""
    if a.key is not None and b.key is not None:
        return a.key[0] == b.key[0] and (a.key[1] == b.key[1]) != (a.key[2] == b.key[2])
    return not a.words.isdisjoint(b.words)
