"""Option grids and search spaces: ``60,80,120``, ``0:99`` and ``0.1:1.0`` as typed option values.

Every value is validated by :class:`~chimera.options.InferenceOptions` itself, so a grid can
only hold values a request could carry (``num_ctx=0`` is refused here, not by the server).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chimera.errors import ConfigError
from chimera.options import InferenceOptions

OptionValue = int | float | bool | str


def option_name(raw: str) -> str:
    """``num-gpu`` or ``num_gpu`` -> ``num_gpu``; an unknown name is a ConfigError."""
    name = raw.strip().replace("-", "_")
    if name not in InferenceOptions.model_fields:
        known = ", ".join(InferenceOptions.model_fields)
        raise ConfigError(f"unknown option {raw!r}; known options: {known}")
    if name == "stop":
        raise ConfigError("the stop option holds a list of strings and cannot be swept")
    return name


def parse_value(name: str, text: str) -> OptionValue:
    """One value of option ``name``, typed and range-checked as a request would need it."""
    options = InferenceOptions.parse({name: text.strip()}, where=f"value {text!r} of {name}")
    value: OptionValue = getattr(options, name)
    return value


def parse_values(name: str, text: str) -> tuple[OptionValue, ...]:
    """``"60,80,120"`` -> ``(60, 80, 120)``, in the given order, duplicates dropped."""
    parts = [p for p in (s.strip() for s in text.split(",")) if p]
    if not parts:
        raise ConfigError(f"no values given for {name}; write them as 60,80,120")
    values: list[OptionValue] = []
    for part in parts:
        v = parse_value(name, part)
        if v not in values:
            values.append(v)
    return tuple(values)


def format_value(value: object) -> str:
    """How a value is written to CSV cells and point keys (and read back identically)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def option_specs(
    named: Mapping[str, str | None], extra: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """(option, text) pairs from named flags, then from ``NAME=TEXT`` strings (``-o``)."""
    specs = [(name, text) for name, text in named.items() if text is not None]
    for pair in extra or []:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{pair!r} is not NAME=VALUES (e.g. num_batch=256,512)")
        specs.append((name.strip(), text))
    return specs


@dataclass(frozen=True, slots=True)
class Point:
    """One configuration: option name -> value, in the grid's order."""

    values: tuple[tuple[str, OptionValue], ...]

    @classmethod
    def of(cls, values: Mapping[str, OptionValue]) -> Point:
        return cls(tuple(values.items()))

    @property
    def key(self) -> str:
        """``num_ctx=256, num_thread=1``: the point's identity in CSVs, the store and output."""
        return ", ".join(f"{k}={format_value(v)}" for k, v in self.values) or "defaults"

    def as_dict(self) -> dict[str, OptionValue]:
        return dict(self.values)

    def options(self, base: InferenceOptions | None = None) -> InferenceOptions:
        """``base`` with this point's values set (the point wins)."""
        own = InferenceOptions.parse(self.as_dict(), where=f"point {self.key}")
        return (base or InferenceOptions()).merged(own)


@dataclass(frozen=True, slots=True)
class Grid:
    """Named option dimensions, each a list of values; the points are their product."""

    dims: tuple[tuple[str, tuple[OptionValue, ...]], ...]

    @classmethod
    def parse(cls, specs: Iterable[tuple[str, str]]) -> Grid:
        """From ``(name, "v1,v2,...")`` pairs; naming one option twice is an error."""
        dims: dict[str, tuple[OptionValue, ...]] = {}
        for raw, text in specs:
            name = option_name(raw)
            if name in dims:
                raise ConfigError(f"option {name} is given twice; give all its values at once")
            dims[name] = parse_values(name, text)
        return cls(tuple(dims.items()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.dims)

    def points(self) -> list[Point]:
        """Every combination, the first dimension varying slowest."""
        names = self.names
        return [
            Point(tuple(zip(names, combo, strict=True)))
            for combo in itertools.product(*(values for _, values in self.dims))
        ]

    def __len__(self) -> int:
        return math.prod(len(values) for _, values in self.dims)


# --- search spaces (chimera optimize) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a list of values."""

    name: str
    values: tuple[OptionValue, ...]


@dataclass(frozen=True, slots=True)
class IntRange:
    """An integer from ``low`` to ``high`` inclusive, in steps of ``step``."""

    name: str
    low: int
    high: int
    step: int = 1


@dataclass(frozen=True, slots=True)
class FloatRange:
    """A real number from ``low`` to ``high`` inclusive."""

    name: str
    low: float
    high: float


Dimension = Choice | IntRange | FloatRange


def parse_dimension(raw: str, text: str) -> Dimension:
    """``0:99`` (integers), ``0:96:8`` (with a step), ``0.1:1.0`` (reals) or ``a,b,c``."""
    name = option_name(raw)
    if ":" not in text:
        return Choice(name, parse_values(name, text))
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(f"range {text!r} of {name}: write LOW:HIGH or LOW:HIGH:STEP")
    low, high = parse_value(name, parts[0]), parse_value(name, parts[1])
    if isinstance(low, bool) or isinstance(high, bool) or isinstance(low, str):
        raise ConfigError(f"{name} is not numeric; list its values instead: true,false")
    if high < low:  # type: ignore[operator]
        raise ConfigError(f"range {text!r} of {name}: LOW must not exceed HIGH")
    if isinstance(low, int) and isinstance(high, int):
        step = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 1
        if len(parts) == 3 and (not parts[2].isdigit() or step < 1):
            raise ConfigError(f"range {text!r} of {name}: STEP must be a positive integer")
        return IntRange(name, low, high, step)
    if len(parts) == 3:
        raise ConfigError(f"range {text!r} of {name}: a step is only allowed for integers")
    return FloatRange(name, float(low), float(high))


def space_bounds(space: Iterable[Dimension]) -> dict[str, Any]:
    """A JSON-ready description of a search space (for the store and output)."""
    out: dict[str, Any] = {}
    for dim in space:
        if isinstance(dim, Choice):
            out[dim.name] = {"choices": list(dim.values)}
        elif isinstance(dim, IntRange):
            out[dim.name] = {"low": dim.low, "high": dim.high, "step": dim.step}
        else:
            out[dim.name] = {"low": dim.low, "high": dim.high}
    return out
