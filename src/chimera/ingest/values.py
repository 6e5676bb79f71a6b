"""Numbers as written in artifacts: parsing (with units and shown precision) and unit conversion."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chimera.ingest.fields import UNIT_WORDS
from chimera.quantities import DIGITS

_NUM_RE = re.compile(
    rf"""^\s*[~≈]?\s*
    (?P<num>[-+]?(?:{DIGITS}(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
    \s*(?P<unit>[A-Za-zµ%/]+(?:/[A-Za-z]+)?)?\s*(?:\(.*\))?\s*$""",
    re.VERBOSE,
)
_BOOL = {"true": True, "false": False, "yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class Number:
    """A number read from text: its value, the decimals shown, and the unit written after it."""

    value: float
    decimals: int
    unit: str | None = None


def decimals_of(text: str) -> int:
    """Digits shown after the decimal point ('77.50' -> 2, '1e-3' -> 3, '12' -> 0)."""
    t = text.strip().lower()
    exp = 0
    if "e" in t:
        t, _, e = t.partition("e")
        try:
            exp = int(e)
        except ValueError:
            exp = 0
    frac = t.partition(".")[2]
    return max(0, len(frac) - exp)


def float_decimals(v: float) -> int:
    """Decimals in the shortest repr of a float (JSON numbers keep their full precision)."""
    if not math.isfinite(v):
        return 0
    text = repr(v)
    if "e" in text:
        return decimals_of(text)
    return len(text) - text.index(".") - 1  # a finite float's repr without 'e' has a '.'


def parse_number(text: str) -> Number | None:
    """A number in a cell ('12.5', '3,503', '0.06s', '**303.9 tok/s**', 'nan'), else None."""
    got = parse_cell(text)
    return None if got is None else Number(*got)


def parse_cell(text: str) -> tuple[float, int, str | None] | None:
    """``parse_number`` as a plain (value, decimals, unit) tuple: the fast path for facts."""
    t = text.strip()
    if not t:
        return None
    if "_" not in t:
        try:
            v = float(t)
        except ValueError:
            pass
        else:
            if not math.isfinite(v):
                return v, 0, None
            if "e" in t or "E" in t:
                return v, decimals_of(t), None
            return v, len(t.partition(".")[2]), None  # decimals_of without an exponent
    t = t.replace("**", "").replace("`", "").strip()
    m = _NUM_RE.match(t)
    if m is None:
        return None
    raw_unit = m.group("unit")
    unit: str | None = None
    if raw_unit:
        unit = UNIT_WORDS.get(raw_unit.lower())
        if unit is None:
            return None  # '3.3 GB', '12x': a number, but not in a unit we measure
    num = m.group("num").replace(",", "")
    return float(num), decimals_of(num), unit


class Missing:
    """An empty cell (None, blank): a failed row's measurement, not a number."""


MISSING = Missing()
Cell = tuple[float, int, str | None]  # value, decimals shown, unit written after it


def cell_number(raw: object) -> Cell | Missing | None:
    """A cell's number as (value, decimals, unit) (a tuple: no Number object per cell), MISSING
    for an empty cell (None, blank), or None when it holds no number."""
    cls = raw.__class__
    if cls is str:  # the common cases first, by exact type
        assert isinstance(raw, str)
        return MISSING if not raw.strip() else parse_cell(raw)
    if cls is float:
        assert isinstance(raw, float)
        return raw, float_decimals(raw), None
    if raw is None:
        return MISSING
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return float(raw), 0, None
    if isinstance(raw, float):
        return raw, float_decimals(raw), None
    if isinstance(raw, str):
        return MISSING if not raw.strip() else parse_cell(raw)
    return None


def parse_bool(text: str) -> bool | None:
    """'TRUE'/'false'/'yes'/'no' -> bool, else None."""
    return _BOOL.get(text.strip().lower())


def config_value(raw: object) -> str | None:
    """A configuration value as a canonical string ('40.00' -> '40', 0.40 -> '0.4')."""
    if raw is None or isinstance(raw, bool):
        return None if raw is None else str(raw).lower()
    if isinstance(raw, int | float):
        v = float(raw)
    else:
        text = str(raw).replace("**", "").replace("`", "").strip()
        if not text or text.lower() in ("none", "null", "nan", "default", "-", "n/a"):
            return None
        try:
            v = float(text)
        except ValueError:
            return text
    if not math.isfinite(v):
        return None
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def fmt_num(v: float | None, digits: int = 4) -> str:
    """A compact human figure: up to ``digits`` significant digits, no exponent for normal sizes."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - mag)
    text = f"{v:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
