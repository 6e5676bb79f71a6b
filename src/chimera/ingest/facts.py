"""The normalized table: one Fact per number found, with its model, configuration and unit."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from chimera.ingest.fact import Config, Fact, config_label, intern_setup, intern_traits, new_fact
from chimera.ingest.fields import (
    CONFIG_KEYS,
    FLOAT_CONFIG,
    INT_CONFIG,
    Classifier,
    FieldInfo,
    metric_unit,
)
from chimera.ingest.records import Hint, RawRecord
from chimera.ingest.values import (
    config_value,
    convert,
    float_decimals,
    parse_cell,
)

# Fact and config_label live in fact.py; importers keep using this module
__all__ = ["ERROR_TEXT", "Config", "Fact", "FactBuilder", "config_label"]
_ORDER = {k: i for i, k in enumerate(CONFIG_KEYS)}

ERROR_TEXT = re.compile(
    r"^\s*(error|exception|traceback|fatal)\b|^==error==|failed to connect|connection attempts "
    r"failed|connection refused|\[winerror|\btimed out\b|could not connect|is not installed|"
    r"out of memory|cuda error|no inference data",
    re.IGNORECASE,
)
_PROMPTISH = re.compile(
    r"prompt|question|query|instruction|input|test_name|description", re.IGNORECASE
)
_NULLISH = frozenset({"", "none", "null", "nan", "0", "false", "ok", "n/a", "-", "no error"})
_FAILED_STATUS = frozenset(
    {
        "failed",
        "failure",
        "error",
        "errored",
        "timeout",
        "timed out",
        "timed_out",
        "crashed",
        "aborted",
        "cancelled",
        "canceled",
        "oom",
    }
)
_FALSY = frozenset({"false", "no", "0", "fail", "failed", "n", "f"})
_TRUTHY = frozenset({"true", "yes", "1", "ok", "pass", "passed", "y", "t"})
_COUNTS = frozenset({"runs_ok", "runs_total"})
_NUMERIC_START = frozenset("0123456789.-+")
# a real call never measures 0 for these (0 s to compile or load can be real: nothing to do)
_NEVER_ZERO = frozenset({"tokens_per_s", "latency_ms", "ttft_s", "eval_s"})


@dataclass(frozen=True, slots=True)
class _Plan:
    control: tuple[tuple[str, FieldInfo], ...]  # model, tag, config, label, status fields
    # keys holding numbers (known metrics or not), with their meaning and normalized unit
    metrics: tuple[tuple[str, FieldInfo, str], ...]
    texts: tuple[str, ...]  # keys whose text is checked for error messages
    # eval_count and eval_s both plain measurements here: a rate may be derived
    may_derive: bool = False
    known: tuple[tuple[str, FieldInfo, str], ...] = ()  # the metrics but unknown keys


_ROW_FIELDS = ("model", "tag", "label", "failure", "failure_kind", "success")


@dataclass(slots=True)
class _Row:
    model: object = None
    tag: str | None = None
    label: str | None = None
    failure: str | None = None
    failure_kind: str | None = None
    success: bool | None = None
    error_text: str | None = None


class FactBuilder:
    """Turns one file's records into facts (pure: values in, facts out)."""

    def __init__(self, classifier: Classifier, failure_patterns: Iterable[str] = ()) -> None:
        self.cls = classifier
        extra = [p for p in failure_patterns if p]
        self.error_text = (
            re.compile("|".join([ERROR_TEXT.pattern, *extra]), re.IGNORECASE)
            if extra
            else ERROR_TEXT
        )
        self.models: set[str] = set()  # explicit model names seen in data files
        # Rows of one file repeat their configuration: one tuple per distinct configuration
        # (shared by every fact that has it) and one parse per distinct raw value.
        self._configs: dict[tuple[tuple[str, str], ...], Config] = {}
        self._config_values: dict[tuple[str, object], str | None] = {}
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._contexts: dict[int, tuple[object, _Row, dict[str, str]]] = {}

    def build(
        self, records: list[RawRecord], source: str, family: str, path_hints: tuple[Hint, ...]
    ) -> list[Fact]:
        out: list[Fact] = []
        self._contexts.clear()  # keyed by id(): valid while this file's records are alive
        for idx, rec in enumerate(records):
            self._record(rec, idx, source, family, path_hints, out)
        return out

    def _record(
        self,
        rec: RawRecord,
        idx: int,
        source: str,
        family: str,
        path_hints: tuple[Hint, ...],
        out: list[Fact],
    ) -> None:
        row = _Row()
        config: dict[str, str] = {}
        values = rec.values
        plan = self._plan(tuple(values))
        for key, info in plan.control:
            self._apply(key, info, values[key], row, config)
        for key in plan.texts:
            raw = values[key]
            if (
                isinstance(raw, str)
                and raw[:1] not in _NUMERIC_START
                and self.error_text.search(raw)
                and parse_cell(raw) is None
            ):
                row.error_text = f"error text in {key}: {_short(raw)}"
                break
        if rec.context:
            inherited, inherited_config = self._inherited(rec.context)
            for name in _ROW_FIELDS:
                if getattr(row, name) is None:
                    setattr(row, name, getattr(inherited, name))
            for k, v in inherited_config.items():
                config.setdefault(k, v)
        if not config and row.label:
            config["config"] = row.label
        items = tuple(config.items())
        cfg = self._configs.get(items)
        if cfg is None:
            cfg = tuple(sorted(items, key=lambda kv: (_ORDER.get(kv[0], 99), kv[0])))
            if len(self._configs) < 4096:
                self._configs[items] = cfg
        if row.failure is None and row.error_text is not None:
            row.failure = row.error_text
            row.failure_kind = "error_text_success" if row.success else "error_text"
        model: str | None = None
        model_from = "none"
        hints = rec.hints + path_hints if rec.hints else path_hints
        if isinstance(row.model, str) and row.model.strip():
            model, model_from, hints = sys.intern(row.model.strip()), "field", ()
            if rec.origin == "data":
                self.models.add(model)
        elif row.tag or "quantization" in config:
            hints = (("tag", row.tag or config["quantization"]), *hints)
        setup = intern_setup(model, model_from, cfg)
        facts: list[Fact] = []
        # _failures has work only for a failed row, a zero measurement or a NaN/inf value
        suspect = row.failure is not None
        origin = rec.origin
        # 'line 3.tokens_s' / '$.runs[0].ttft_s': data-file locators name the key
        dotted = origin == "data" and rec.locator.startswith(("$", "line "))
        # unknown keys count in data files only (skipped before their value is parsed)
        for key, info, target in plan.metrics if origin == "data" else plan.known:
            raw = values[key]
            if raw.__class__ is str:  # most cells: text to parse (no second call)
                assert isinstance(raw, str)
                cell: _Cell | _Missing | None = parse_cell(raw) if raw.strip() else _MISSING
            else:
                cell = _cell(raw)
            if cell is None:
                continue
            locator = sys.intern(f"{rec.locator}.{key}") if dotted else rec.locator
            if info.role == "other":
                if isinstance(cell, _Missing):
                    continue
                num, decimals, cell_unit = cell
                if not math.isfinite(num) or _epochish(info.name, num):
                    continue
                traits = intern_traits(
                    (
                        info.name,
                        None,
                        cell_unit or info.unit or "",
                        key,
                        False,
                        origin,
                        family,
                        decimals,
                        False,
                        None,
                        None,
                    )
                )
                facts.append(new_fact(source, locator, num, idx, hints, traits, setup))
                continue
            if isinstance(cell, _Missing):
                if row.failure is None:
                    continue
                traits = intern_traits(
                    (
                        info.name,
                        info.aggregate,
                        target,
                        key,
                        True,
                        origin,
                        family,
                        0,
                        True,
                        row.failure,
                        row.failure_kind,
                    )
                )
                facts.append(new_fact(source, locator, math.nan, idx, hints, traits, setup))
                continue
            num, decimals, cell_unit = cell
            unit = cell_unit or info.unit
            value = num
            if unit is not None and unit != target and target:  # else convert() is the identity
                converted = convert(num, unit, target)
                if converted is None:
                    continue
                value = converted
                # decimals as they would be shown in the target unit (0.5 ms shown = 0.0005 s)
                scale = convert(1.0, unit, target) or 1.0
                if scale != 1.0:
                    decimals -= math.floor(math.log10(scale) + 1e-9)
            if target in ("s", "ms") and _epochish(info.name, num):
                continue
            if value == 0 or not math.isfinite(value):
                suspect = True
            traits = intern_traits(
                (
                    info.name,
                    info.aggregate,
                    target,
                    key,
                    True,
                    origin,
                    family,
                    decimals,
                    False,
                    None,
                    None,
                )
            )
            facts.append(new_fact(source, locator, value, idx, hints, traits, setup))
        if plan.may_derive:
            _derive_rate(facts)
            suspect = True  # the derived rate may be 0
        if facts and suspect:
            self._failures(facts, row)
        if not facts and row.failure is not None:
            # a failed run with no numbers at all still counts as a run that failed
            facts.append(
                Fact(
                    source,
                    rec.locator,
                    rec.origin,
                    family,
                    model,
                    model_from,
                    cfg,
                    "failed_run",
                    None,
                    math.nan,
                    "",
                    "",
                    False,
                    True,
                    row.failure,
                    row.failure_kind,
                    0,
                    idx,
                    hints,
                )
            )
        out.extend(facts)

    def _plan(self, keys: tuple[str, ...]) -> _Plan:
        """How to read a record with these keys (rows of a file share one plan)."""
        plan = self._plans.get(keys)
        if plan is not None:
            return plan
        control: list[tuple[str, FieldInfo]] = []
        metrics: list[tuple[str, FieldInfo, str]] = []
        texts: list[str] = []
        for key in keys:
            if key == "__column__":
                continue
            child = key.startswith("@")  # '@compilation.success': a child object's status
            info = self.cls.classify(key.rsplit(".", 1)[-1] if child else key)
            if child:
                if info.role in ("failure", "success", "status"):
                    control.append((key, info))
            elif info.role in ("metric", "other"):
                metrics.append((key, info, metric_unit(info.name)))
                if not _PROMPTISH.search(key):
                    texts.append(key)
            elif info.role != "ignore":
                control.append((key, info))
        plain = {i.name for _, i, _ in metrics if i.role == "metric" and i.aggregate is None}
        may_derive = "eval_count" in plain and "eval_s" in plain
        known = tuple(m for m in metrics if m[1].role != "other")
        plan = _Plan(tuple(control), tuple(metrics), tuple(texts), may_derive, known)
        if len(self._plans) < 1024:
            self._plans[keys] = plan
        return plan

    def _inherited(self, context: tuple[tuple[str, object], ...]) -> tuple[_Row, dict[str, str]]:
        """What enclosing objects say (nearest first); siblings share one context tuple."""
        hit = self._contexts.get(id(context))
        if hit is not None and hit[0] is context:
            return hit[1], hit[2]
        row = _Row()
        config: dict[str, str] = {}
        for key, raw in reversed(context):
            self._field(key, raw, row, config)
        self._contexts[id(context)] = (context, row, config)
        return row, config

    def _field(self, key: str, raw: object, row: _Row, config: dict[str, str]) -> None:
        """An inherited (context) field: only model, configuration and failure matter."""
        child = key.startswith("@")
        info = self.cls.classify(key.rsplit(".", 1)[-1] if child else key)
        if child and info.role not in ("failure", "success", "status"):
            return
        self._apply(key, info, raw, row, config)

    def _apply(
        self, key: str, info: FieldInfo, raw: object, row: _Row, config: dict[str, str]
    ) -> None:
        role = info.role
        if role == "model":
            if row.model is None:
                row.model = _model_from(raw, self.cls, config)
        elif role == "tag":
            if row.tag is None and isinstance(raw, str) and raw.strip():
                row.tag = raw.strip()
        elif role == "config":
            if info.name not in config:
                v = self._config_value(info.name, raw)
                if v is not None:
                    config[info.name] = v
        elif role == "options":
            for k, ov in _options(raw).items():
                ci = self.cls.classify(str(k))
                if ci.role == "config" and ci.name not in config:
                    cv = _config(ci.name, ov)
                    if cv is not None:
                        config[ci.name] = cv
        elif role == "label":
            if row.label is None and isinstance(raw, str | int | float) and str(raw).strip():
                row.label = str(raw).strip()
        elif role == "failure":
            if row.failure is None and raw is not None and str(raw).strip().lower() not in _NULLISH:
                row.failure, row.failure_kind = f"{key.lstrip('@')}: {_short(str(raw))}", "error"
        elif role == "success":
            flag = _flag(raw)
            if flag is False and row.failure is None:
                row.failure, row.failure_kind = f"{key.lstrip('@')}={raw}", "success_false"
            elif flag is True and row.success is None:
                row.success = True
        elif role == "status" and (
            isinstance(raw, str) and raw.strip().lower() in _FAILED_STATUS and row.failure is None
        ):
            row.failure, row.failure_kind = f"{key.lstrip('@')}={raw}", "status"

    def _config_value(self, name: str, raw: object) -> str | None:
        if isinstance(raw, dict | list):
            return None
        key = (name, raw)
        if key in self._config_values:
            return self._config_values[key]
        v = _config(name, raw)
        if len(self._config_values) < 4096:
            self._config_values[key] = v
        return v

    def _failures(self, facts: list[Fact], row: _Row) -> None:
        if row.failure is None:
            measured = [
                f
                for f in facts
                if f.traits.recognized
                and f.traits.metric not in _COUNTS
                and not math.isnan(f.value)
            ]
            if len(measured) >= 2 and all(f.value == 0 for f in measured):
                row.failure, row.failure_kind = "all measurements are 0", "zeros"
            else:
                zero = next(
                    (f for f in measured if f.value == 0 and f.traits.metric in _NEVER_ZERO), None
                )
                if zero is not None:
                    row.failure, row.failure_kind = f"{zero.original_key} is 0", "zero_rate"
        for f in facts:
            if row.failure is not None:
                f.fail(row.failure, row.failure_kind)
            elif not math.isfinite(f.value):
                f.fail("value is NaN/inf", "nan")


def _derive_rate(facts: list[Fact]) -> None:
    """Ollama-style rows give eval_count and eval_duration but no rate: derive tokens_per_s."""
    by_metric = {f.metric: f for f in facts if f.recognized and f.aggregate is None}
    count, seconds = by_metric.get("eval_count"), by_metric.get("eval_s")
    if count is None or seconds is None or "tokens_per_s" in by_metric:
        return
    if not (math.isfinite(count.value) and math.isfinite(seconds.value)) or seconds.value <= 0:
        return
    facts.append(
        Fact(
            count.source,
            count.locator.rsplit(".", 1)[0]
            if count.locator.startswith("$") or count.locator.startswith("line ")
            else count.locator,
            count.origin,
            count.family,
            count.model,
            count.model_from,
            count.config,
            "tokens_per_s",
            None,
            count.value / seconds.value,
            "tok/s",
            f"{count.original_key}/{seconds.original_key}",
            True,
            False,
            None,
            None,
            max(seconds.decimals, 2),
            count.record,
            count.hints,
        )
    )


class _Missing:
    """An empty cell (None, blank): a failed row's measurement, not a number."""


_MISSING = _Missing()
_Cell = tuple[float, int, str | None]  # value, decimals shown, unit written after it


def _cell(raw: object) -> _Cell | _Missing | None:
    """A cell's number (as a tuple: no Number object per cell), _MISSING, or None (not one)."""
    cls = raw.__class__
    if cls is str:  # the common cases first, by exact type
        assert isinstance(raw, str)
        return _MISSING if not raw.strip() else parse_cell(raw)
    if cls is float:
        assert isinstance(raw, float)
        return raw, float_decimals(raw), None
    if raw is None:
        return _MISSING
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return float(raw), 0, None
    if isinstance(raw, float):
        return raw, float_decimals(raw), None
    if isinstance(raw, str):
        return _MISSING if not raw.strip() else parse_cell(raw)
    return None


def _epochish(name: str, value: float) -> bool:
    return "time" in name and 9e8 < value < 4.2e9


def _short(text: str, limit: int = 100) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _flag(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _FALSY:
        return False
    if text in _TRUTHY:
        return True
    return None


def _config(name: str, raw: object) -> str | None:
    if isinstance(raw, dict | list):
        return None
    v = config_value(raw)
    if v is None:
        return None
    if name in INT_CONFIG or name in FLOAT_CONFIG:
        try:
            f = float(v)
        except ValueError:
            return None  # a 'Context' column of labels is not num_ctx
        if name in INT_CONFIG and not f.is_integer():
            return None
    return v


def _options(raw: object) -> dict[str, object]:
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
        return {str(k): v for k, v in doc.items()} if isinstance(doc, dict) else {}
    return {}


def _model_from(raw: object, cls: Classifier, config: dict[str, str]) -> object:
    """A model field's name; a model object ({name, device, ...}) also gives configuration."""
    if isinstance(raw, str):
        return raw.strip() or None
    if isinstance(raw, dict):
        name = None
        for k, v in raw.items():
            low = str(k).lower()
            if low in ("name", "id", "model", "tag") and isinstance(v, str) and name is None:
                name = v.strip() or None
            else:
                ci = cls.classify(str(k))
                if ci.role == "config" and ci.name not in config:
                    cv = _config(ci.name, v)
                    if cv is not None:
                        config[ci.name] = cv
        return name
    return None
