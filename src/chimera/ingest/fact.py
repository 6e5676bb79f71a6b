"""The Fact record: one number with its source, model, configuration and metric, kept compact.

A tree of 100,000 files holds 600,000 facts, so what many facts have in common lives in two
interned tuples: their ``Traits`` (the column's meaning: metric, aggregate, unit, original key,
recognized; the origin and source family, the decimals shown, and the failure, None for a
fact that did not fail) and their ``Setup`` (model, where the model came from, and
configuration). A fact keeps 7 slots instead of 19: 88 bytes instead of 184.
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple

from chimera.ingest.records import Hint

Config = tuple[tuple[str, str], ...]


class Traits(NamedTuple):
    """What many facts share (one interned tuple for all of them; read-only)."""

    metric: str
    aggregate: str | None
    unit: str
    original_key: str
    recognized: bool
    origin: str
    family: str
    decimals: int
    failed: bool
    failure: str | None
    failure_kind: str | None


class Setup(NamedTuple):
    """The model and configuration a fact measures (one interned tuple per distinct one)."""

    model: str | None
    model_from: str
    config: Config


# Interned traits and setups, keyed by the plain tuple of their values (equal to the named tuple
# and cheaper to build). Bounded: past the limit a table starts again (sharing is an economy,
# not a meaning, so a fresh table only costs memory).
_TRAITS: dict[tuple[object, ...], Traits] = {}
_SETUPS: dict[tuple[object, ...], Setup] = {}
_INTERNED_MAX = 200_000
FACT_FIELDS = (
    "source",
    "locator",
    "origin",
    "family",
    "model",
    "model_from",
    "config",
    "metric",
    "aggregate",
    "value",
    "unit",
    "original_key",
    "recognized",
    "failed",
    "failure",
    "failure_kind",
    "decimals",
    "record",
    "hints",
)


def intern_traits(values: tuple[object, ...]) -> Traits:
    """The one Traits with these 11 values (in Traits' field order)."""
    got = _TRAITS.get(values)
    if got is None:
        if len(_TRAITS) >= _INTERNED_MAX:
            _TRAITS.clear()
        got = Traits._make(values)
        _TRAITS[values] = got
    return got


def intern_setup(model: str | None, model_from: str, config: Config) -> Setup:
    """The one Setup with these values."""
    key = (model, model_from, config)
    got = _SETUPS.get(key)
    if got is None:
        if len(_SETUPS) >= _INTERNED_MAX:
            _SETUPS.clear()
        got = Setup(model, model_from, config)
        _SETUPS[key] = got
    return got


def _traits_field(name: str) -> property:
    """A Traits field read and assigned through the fact (an assignment re-interns)."""
    index = Traits._fields.index(name)

    def set_(self: Fact, value: object) -> None:
        values: list[object] = list(self.traits)
        values[index] = value
        self.traits = intern_traits(tuple(values))

    # a C getter: no Python frame per read
    return property(attrgetter(f"traits.{name}"), set_, doc=f"``traits.{name}``")


def _setup_field(name: str) -> property:
    """A Setup field read and assigned through the fact (an assignment re-interns)."""
    index = Setup._fields.index(name)

    def set_(self: Fact, value: object) -> None:
        values: list[object] = list(self.setup)
        values[index] = value
        self.setup = intern_setup(*Setup._make(values))

    return property(attrgetter(f"setup.{name}"), set_, doc=f"``setup.{name}``")


class Fact:
    """One number: where it was found, what it measures, for which model and configuration.

    Attributes (all readable and assignable, as on a plain record): ``source`` (display path),
    ``locator`` ('row 3', '$.models[0].mean_ttft_s', 'table 2 row 4', 'line 12'), ``origin``
    (data, table, prose), ``family`` (e.g. 'param_tuning.csv'), ``model``, ``model_from``
    (field, tag, header, label, heading, doc, path, dir, path-guess, none), ``config``
    ((key, canonical value) in CONFIG_KEYS order), ``metric`` (canonical, or the normalized key
    when not recognized), ``aggregate`` (None for an observation; mean, median, p95, ...),
    ``value`` (in ``unit``; NaN when the row failed and the cell was empty or NaN), ``unit``,
    ``original_key``, ``recognized``, ``failed``, ``failure``, ``failure_kind`` (error,
    success_false, status, error_text, error_text_success, zeros, zero_rate, nan),
    ``decimals`` (digits shown after the decimal point in the source), ``record`` (index of
    the row/object within its file; facts of one row share it), ``hints`` (model hints).

    The shared fields are also readable together as ``traits`` and ``setup``: a loop over many
    facts reads ``f.traits.metric`` or ``f.setup.model`` twice as fast as ``f.metric``.
    """

    __slots__ = ("hints", "locator", "record", "setup", "source", "traits", "value")

    source: str
    locator: str
    value: float
    record: int
    hints: tuple[Hint, ...]
    traits: Traits
    setup: Setup

    def __init__(
        self,
        source: str,
        locator: str,
        origin: str,
        family: str,
        model: str | None,
        model_from: str,
        config: Config,
        metric: str,
        aggregate: str | None,
        value: float,
        unit: str,
        original_key: str,
        recognized: bool,
        failed: bool,
        failure: str | None,
        failure_kind: str | None,
        decimals: int,
        record: int,
        hints: tuple[Hint, ...] = (),
    ) -> None:
        self.source = source
        self.locator = locator
        setup = _SETUPS.get((model, model_from, config))
        self.setup = setup if setup is not None else intern_setup(model, model_from, config)
        self.value = value
        self.record = record
        self.hints = hints
        key = (
            metric,
            aggregate,
            unit,
            original_key,
            recognized,
            origin,
            family,
            decimals,
            failed,
            failure,
            failure_kind,
        )
        got = _TRAITS.get(key)
        self.traits = got if got is not None else intern_traits(key)

    def astuple(self) -> tuple[object, ...]:
        """The 19 fields in constructor order (``Fact(*f.astuple())`` is an equal fact)."""
        t, s = self.traits, self.setup
        return (
            self.source,
            self.locator,
            t.origin,
            t.family,
            s.model,
            s.model_from,
            s.config,
            t.metric,
            t.aggregate,
            self.value,
            t.unit,
            t.original_key,
            t.recognized,
            t.failed,
            t.failure,
            t.failure_kind,
            t.decimals,
            self.record,
            self.hints,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Fact:
            return NotImplemented
        assert isinstance(other, Fact)
        return self.astuple() == other.astuple()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(FACT_FIELDS, self.astuple(), strict=True))
        return f"Fact({inner})"

    def fail(self, failure: str, kind: str | None) -> None:
        """Mark the fact failed, with why (one re-interning for the three fields)."""
        self.traits = intern_traits((*self.traits[:8], True, failure, kind))

    if TYPE_CHECKING:  # plain attributes to the type checker, properties at run time
        model: str | None
        model_from: str
        config: Config
        metric: str
        aggregate: str | None
        unit: str
        original_key: str
        recognized: bool
        origin: str
        family: str
        decimals: int
        failed: bool
        failure: str | None
        failure_kind: str | None
    else:
        model = _setup_field("model")
        model_from = _setup_field("model_from")
        config = _setup_field("config")
        metric = _traits_field("metric")
        aggregate = _traits_field("aggregate")
        unit = _traits_field("unit")
        original_key = _traits_field("original_key")
        recognized = _traits_field("recognized")
        origin = _traits_field("origin")
        family = _traits_field("family")
        decimals = _traits_field("decimals")
        failed = _traits_field("failed")
        failure = _traits_field("failure")
        failure_kind = _traits_field("failure_kind")

    @property
    def config_label(self) -> str:
        return config_label(self.setup.config)

    def row(self) -> dict[str, object]:
        """The exported columns (CSV and JSON), in order."""
        t, s = self.traits, self.setup
        return {
            "source": self.source,
            "locator": self.locator,
            "origin": t.origin,
            "family": t.family,
            "model": s.model or "",
            "model_from": s.model_from,
            "config": config_label(s.config),
            "metric": t.metric,
            "aggregate": t.aggregate or "",
            "value": "" if math.isnan(self.value) else self.value,
            "unit": t.unit,
            "original_key": t.original_key,
            "recognized": t.recognized,
            "failed": t.failed,
            "failure": t.failure or "",
        }


_new = object.__new__


def new_fact(
    source: str,
    locator: str,
    value: float,
    record: int,
    hints: tuple[Hint, ...],
    traits: Traits,
    setup: Setup,
) -> Fact:
    """A fact from its interned parts (what the fact builder makes per number: a third of the
    cost of the 19-field constructor)."""
    f: Fact = _new(Fact)
    f.source = source
    f.locator = locator
    f.value = value
    f.record = record
    f.hints = hints
    f.traits = traits
    f.setup = setup
    return f


def config_label(config: Config) -> str:
    return ", ".join(f"{k}={v}" for k, v in config) if config else "-"
