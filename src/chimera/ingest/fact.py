"""The Fact record: one number with its source, model, configuration and metric, kept compact.

A tree of 100,000 files holds 600,000 facts, so a fact stores what many facts share as one
tuple: the column's meaning (metric, aggregate, unit, original key, recognized) is interned
and shared by every fact of that column, and a fact that did not fail holds None for its
three failure fields. 13 slots instead of 19: 136 bytes a fact instead of 184.
"""

from __future__ import annotations

import math

from chimera.ingest.records import Hint

Config = tuple[tuple[str, str], ...]
_Key = tuple[str, str | None, str, str, bool]  # metric, aggregate, unit, original_key, recognized
_Fail = tuple[bool, str | None, str | None]  # failed, failure, failure_kind
_NOT_FAILED: _Fail = (False, None, None)
# Interned column meanings; bounded: past the limit it starts again (sharing is an economy,
# not a meaning, so a fresh table only costs memory).
_KEYS: dict[_Key, _Key] = {}
_KEYS_MAX = 200_000
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


def _intern(key: _Key) -> _Key:
    got = _KEYS.get(key)
    if got is None:
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        _KEYS[key] = got = key
    return got


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
    """

    __slots__ = (
        "_fail",
        "_key",
        "config",
        "decimals",
        "family",
        "hints",
        "locator",
        "model",
        "model_from",
        "origin",
        "record",
        "source",
        "value",
    )

    source: str
    locator: str
    origin: str
    family: str
    model: str | None
    model_from: str
    config: Config
    _key: _Key
    value: float
    _fail: _Fail
    decimals: int
    record: int
    hints: tuple[Hint, ...]

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
        self.origin = origin
        self.family = family
        self.model = model
        self.model_from = model_from
        self.config = config
        self._key = _intern((metric, aggregate, unit, original_key, recognized))
        self.value = value
        self._fail = (
            _NOT_FAILED
            if not failed and failure is None and failure_kind is None
            else (failed, failure, failure_kind)
        )
        self.decimals = decimals
        self.record = record
        self.hints = hints

    def astuple(self) -> tuple[object, ...]:
        """The 19 fields in constructor order (``Fact(*f.astuple())`` is an equal fact)."""
        k, fl = self._key, self._fail
        return (
            self.source,
            self.locator,
            self.origin,
            self.family,
            self.model,
            self.model_from,
            self.config,
            k[0],
            k[1],
            self.value,
            k[2],
            k[3],
            k[4],
            fl[0],
            fl[1],
            fl[2],
            self.decimals,
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

    @property
    def metric(self) -> str:
        return self._key[0]

    @metric.setter
    def metric(self, v: str) -> None:
        k = self._key
        self._key = _intern((v, k[1], k[2], k[3], k[4]))

    @property
    def aggregate(self) -> str | None:
        return self._key[1]

    @aggregate.setter
    def aggregate(self, v: str | None) -> None:
        k = self._key
        self._key = _intern((k[0], v, k[2], k[3], k[4]))

    @property
    def unit(self) -> str:
        return self._key[2]

    @unit.setter
    def unit(self, v: str) -> None:
        k = self._key
        self._key = _intern((k[0], k[1], v, k[3], k[4]))

    @property
    def original_key(self) -> str:
        return self._key[3]

    @original_key.setter
    def original_key(self, v: str) -> None:
        k = self._key
        self._key = _intern((k[0], k[1], k[2], v, k[4]))

    @property
    def recognized(self) -> bool:
        return self._key[4]

    @recognized.setter
    def recognized(self, v: bool) -> None:
        k = self._key
        self._key = _intern((k[0], k[1], k[2], k[3], v))

    @property
    def failed(self) -> bool:
        return self._fail[0]

    @failed.setter
    def failed(self, v: bool) -> None:
        self._fail = (v, self._fail[1], self._fail[2])

    @property
    def failure(self) -> str | None:
        return self._fail[1]

    @failure.setter
    def failure(self, v: str | None) -> None:
        self._fail = (self._fail[0], v, self._fail[2])

    @property
    def failure_kind(self) -> str | None:
        return self._fail[2]

    @failure_kind.setter
    def failure_kind(self, v: str | None) -> None:
        self._fail = (self._fail[0], self._fail[1], v)

    @property
    def config_label(self) -> str:
        return config_label(self.config)

    def row(self) -> dict[str, object]:
        """The exported columns (CSV and JSON), in order."""
        return {
            "source": self.source,
            "locator": self.locator,
            "origin": self.origin,
            "family": self.family,
            "model": self.model or "",
            "model_from": self.model_from,
            "config": self.config_label,
            "metric": self.metric,
            "aggregate": self.aggregate or "",
            "value": "" if math.isnan(self.value) else self.value,
            "unit": self.unit,
            "original_key": self.original_key,
            "recognized": self.recognized,
            "failed": self.failed,
            "failure": self.failure or "",
        }


def config_label(config: Config) -> str:
    return ", ".join(f"{k}={v}" for k, v in config) if config else "-"
