"""Numbers and units as Chimera reads them: one numeral grammar and one unit table.

Artifacts (ingest), reports (the fact check), the fact sheet's answers (validation) and the
digest's own text (known numbers) all write figures the same way, so they are read with the
same pieces: a numeral (``1,024``, ``3.5``, ``.5``), the units a figure can carry, what each
unit measures and its factor to that kind's base unit. Each reader adds only its own context
(a cell is anchored, prose guards its neighbours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- numerals ----------------------------------------------------------------------------------

# digits, with thousands grouped by commas or not ("1,024" but not the "1,2" of a list)
DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+)"
# a numeral: digits with an optional fraction, or a bare fraction (".5")
NUMERAL = rf"{DIGITS}(?:\.\d+)?|\.\d+"
# a numeral in running text: not the tail of a longer number or word ("v1.2", "x86", "3.14")
NUMERAL_IN_TEXT = re.compile(rf"(?<![\d.])(?:{DIGITS}(?:\.\d+)?)|(?<![\w.])\.\d+")


def numeral_value(text: str) -> float:
    """The value of a numeral as matched above ("1,024.5" -> 1024.5)."""
    return float(text.replace(",", ""))


# --- units -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unit:
    """What a unit measures and how it relates to the kind's base unit."""

    # time, throughput, bytes, percent, multiplier, fraction, count:<what> (tokens, chars,
    # runs: each its own kind), none, or other:<word> for a word that is no known unit
    kind: str
    factor: float = 1.0  # to the kind's base unit (s, tok/s, bytes, ...)
    power: int = 0  # bytes: 1 for K, 2 for M, ...
    binary: bool = False  # bytes: KiB/MiB/GiB rather than KB/MB/GB


UNITS: dict[str, Unit] = {
    "ns": Unit("time", 1e-9),
    "us": Unit("time", 1e-6),
    "ms": Unit("time", 1e-3),
    "s": Unit("time"),
    "min": Unit("time", 60.0),
    "h": Unit("time", 3600.0),
    "tok/s": Unit("throughput"),
    "ms/tok": Unit("token-latency", 1e-3),
    "GB/s": Unit("bandwidth", 1e9),
    "MB/s": Unit("bandwidth", 1e6),
    "B": Unit("bytes"),
    **{f"{p}B": Unit("bytes", 1000.0**n, n) for n, p in enumerate("KMGT", 1)},
    **{f"{p}iB": Unit("bytes", 1024.0**n, n, binary=True) for n, p in enumerate("KMGT", 1)},
    "%": Unit("percent"),
    "x": Unit("multiplier"),
    "ratio": Unit("fraction"),
    "tokens": Unit("count:tokens"),
    "chars": Unit("count:chars"),
    "runs": Unit("count:runs"),
}

_THROUGHPUT_WORDS = (
    *("tok/s", "tokens/s", "token/s", "toks/s", "tok/sec", "tokens/sec", "tokens/second"),
    *("tokens per second", "tokens per sec", "t/s", "tps", "tokens_per_s"),
)
# how a unit is written -> its canonical name (a key of UNITS)
ALIASES: dict[str, str] = {
    **dict.fromkeys(("ns", "nanosecond", "nanoseconds"), "ns"),
    **dict.fromkeys(("us", "µs", "μs", "micros", "microsecond", "microseconds"), "us"),
    **dict.fromkeys(("ms", "msec", "millis", "millisecond", "milliseconds"), "ms"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(_THROUGHPUT_WORDS, "tok/s"),
    **dict.fromkeys(("ms/tok", "ms/token", "ms per token"), "ms/tok"),
    **dict.fromkeys(("GB/s", "GB/sec"), "GB/s"),
    **dict.fromkeys(("MB/s", "MB/sec"), "MB/s"),
    **dict.fromkeys(("bytes", "byte"), "B"),
    **{f"{p}B": f"{p}B" for p in "KMGT"},
    **{"kB": "KB", "kb": "KB", "mb": "MB", "gb": "GB"},
    **{f"{p}iB": f"{p}iB" for p in "KMGT"},
    **dict.fromkeys(("%", "percent", "per cent", "pct"), "%"),
    **dict.fromkeys(("x", "×"), "x"),
    **dict.fromkeys(("ratio", "fraction"), "ratio"),
    **dict.fromkeys(("tokens", "token"), "tokens"),
    **dict.fromkeys(("chars", "characters"), "chars"),
    "runs": "runs",
}

# A unit written after a number in prose, longest first ("tokens/s" before "s"). Counts,
# multipliers and fractions are read by the fact check's own grammar, not as units.
UNIT_AFTER = re.compile(
    r"\s{0,2}(?P<u>"
    + "|".join(
        re.escape(a)
        for a in sorted(ALIASES, key=len, reverse=True)
        if UNITS[ALIASES[a]].kind not in ("multiplier", "fraction")
        and not UNITS[ALIASES[a]].kind.startswith("count:")
        and a not in ("byte", "tokens_per_s")
    )
    + r")(?![\w/])"
)


def canonical_unit(name: str | None) -> str | None:
    """The canonical name of a unit as written ("milliseconds" -> "ms"), None if unknown."""
    if name is None:
        return None
    return ALIASES.get(name) or ALIASES.get(name.strip().lower())


def unit_of(name: str | None) -> Unit:
    """What a unit as written measures; ``none`` for no unit, ``other:<word>`` if unknown."""
    if name is None:
        return Unit("none")
    canonical = canonical_unit(name)
    return UNITS[canonical] if canonical else Unit(f"other:{name.strip().lower()}")


def convert(value: float, unit: str | None, target: str) -> float | None:
    """``value`` in ``unit`` expressed in ``target`` (both canonical names); None when they
    measure different things. No unit, or no target, leaves the value as it is."""
    if unit is None or unit == target or not target:
        return value
    a, b = UNITS.get(unit), UNITS.get(target)
    if a is None or b is None or a.kind != b.kind:
        return None
    return value * a.factor / b.factor


def in_base(value: float, unit: str | None) -> tuple[str | None, float]:
    """(kind, value in the kind's base unit) for units that convert (time, bytes); other units
    are their own kind, and no unit has kind None."""
    if unit is None:
        return None, value
    u = UNITS.get(unit)
    if u is not None and u.kind in ("time", "bytes"):
        return u.kind, value * u.factor
    return unit, value
