"""The units a claim or a fact can be in, their classes and factors, and the unit written
after a number (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Unit:
    kind: str  # time, throughput, bytes, percent, multiplier, fraction, none, or other:<word>
    factor: float = 1.0  # to the kind's base unit (s, tok/s, bytes, ...)
    power: int = 0  # bytes: 1 for K, 2 for M, ...
    binary: bool = False  # bytes: KiB/MiB/GiB rather than KB/MB/GB


_CANONICAL: dict[str, Unit] = {
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
}
_THROUGHPUT_ALIASES = (
    *("tok/s", "tokens/s", "token/s", "tok/sec", "tokens/sec", "tokens/second"),
    *("tokens per second", "tokens per sec", "t/s", "tps"),
)
UNIT_ALIASES: dict[str, str] = {
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
UNIT_AFTER = re.compile(
    r"\s{0,2}(?P<u>"
    + "|".join(
        re.escape(a)
        for a in sorted(UNIT_ALIASES, key=len, reverse=True)
        if a not in {"x", "×", "ratio", "fraction", "byte"}
    )
    + r")(?![\w/])"
)


def unit_of(name: str | None) -> Unit:
    if name is None:
        return Unit("none")
    canonical = UNIT_ALIASES.get(name) or UNIT_ALIASES.get(name.strip().lower())
    return _CANONICAL[canonical] if canonical else Unit(f"other:{name.strip().lower()}")
