"""The Fact record: one number with its source, model, configuration and metric.

A plain frozen value. Ingestion builds a fact once its row is read; the two later steps that
change what a fact says (a failed row, the model resolved from hints across the tree) make a
new fact with ``with_failure`` / ``with_model`` instead of editing one in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from operator import attrgetter

from chimera.ingest.records import Hint

Config = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Fact:
    """One number: where it was found, what it measures, for which model and configuration.

    ``source`` (display path), ``locator`` ('row 3', '$.models[0].mean_ttft_s', 'table 2 row
    4', 'line 12'), ``origin`` (data, table, prose), ``family`` (e.g. 'param_tuning.csv'),
    ``model``, ``model_from`` (field, tag, header, label, heading, doc, path, dir, path-guess,
    none), ``config`` ((key, canonical value) in CONFIG_KEYS order), ``metric`` (canonical, or
    the normalized key when not recognized), ``aggregate`` (None for an observation; mean,
    median, p95, ...), ``value`` (in ``unit``; NaN when the row failed and the cell was empty
    or NaN), ``unit``, ``original_key``, ``recognized``, ``failed``, ``failure``,
    ``failure_kind`` (error, success_false, status, error_text, error_text_success, zeros,
    zero_rate, nan), ``decimals`` (digits shown after the decimal point in the source),
    ``record`` (index of the row/object within its file; facts of one row share it), ``hints``
    (model hints).
    """

    source: str
    locator: str
    origin: str
    family: str
    model: str | None
    model_from: str
    config: Config
    metric: str
    aggregate: str | None
    value: float
    unit: str
    original_key: str
    recognized: bool
    failed: bool
    failure: str | None
    failure_kind: str | None
    decimals: int
    record: int
    hints: tuple[Hint, ...] = ()

    def astuple(self) -> tuple[object, ...]:
        """The fields in constructor order (``Fact(*f.astuple())`` is an equal fact): what a
        reading process sends back, cheaper to pickle than the object."""
        return _FIELD_VALUES(self)

    # Both are a plain constructor call: dataclasses.replace does the same in about twice the
    # time (it looks up every field by name), and these run once per fact of a failed row and
    # once per fact whose model the tree resolves.

    def with_failure(self, failure: str, kind: str | None) -> Fact:
        return Fact(
            self.source,
            self.locator,
            self.origin,
            self.family,
            self.model,
            self.model_from,
            self.config,
            self.metric,
            self.aggregate,
            self.value,
            self.unit,
            self.original_key,
            self.recognized,
            True,
            failure,
            kind,
            self.decimals,
            self.record,
            self.hints,
        )

    def with_model(self, model: str | None, model_from: str) -> Fact:
        if model == self.model and model_from == self.model_from:
            return self
        return Fact(
            self.source,
            self.locator,
            self.origin,
            self.family,
            model,
            model_from,
            self.config,
            self.metric,
            self.aggregate,
            self.value,
            self.unit,
            self.original_key,
            self.recognized,
            self.failed,
            self.failure,
            self.failure_kind,
            self.decimals,
            self.record,
            self.hints,
        )

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
            "config": config_label(self.config),
            "metric": self.metric,
            "aggregate": self.aggregate or "",
            "value": "" if math.isnan(self.value) else self.value,
            "unit": self.unit,
            "original_key": self.original_key,
            "recognized": self.recognized,
            "failed": self.failed,
            "failure": self.failure or "",
        }


FACT_FIELDS = tuple(f.name for f in fields(Fact))
# every field's value in one C call: four times faster than a getattr per name (a reading
# process sends 600,000 facts back from a tree of 100,000 files)
_FIELD_VALUES = attrgetter(*FACT_FIELDS)


def config_label(config: Config) -> str:
    return ", ".join(f"{k}={v}" for k, v in config) if config else "-"
