"""The normalized table: one Fact per number found, with its model, configuration and unit."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from chimera.ingest.fact import Config, Fact, config_label
from chimera.ingest.fields import (
    CONFIG_KEYS,
    Classifier,
    FieldInfo,
    metric_unit,
)
from chimera.ingest.records import Hint, RawRecord
from chimera.ingest.rowfields import ROW_FIELDS, Row, RowFields, short
from chimera.ingest.values import MISSING, Cell, Missing, cell_number, parse_cell
from chimera.quantities import convert

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
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._columns: dict[str, tuple[str, FieldInfo, str]] = {}
        self.fields = RowFields(classifier)

    def build(
        self, records: list[RawRecord], source: str, family: str, path_hints: tuple[Hint, ...]
    ) -> list[Fact]:
        out: list[Fact] = []
        self.fields.new_file()
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
        row = Row()
        config: dict[str, str] = {}
        values = rec.values
        plan = self._plan(tuple(values))
        apply = self.fields.apply
        for key, info in plan.control:
            apply(key, info, values[key], row, config)
        for key in plan.texts:
            raw = values[key]
            if (
                isinstance(raw, str)
                and raw[:1] not in _NUMERIC_START
                and self.error_text.search(raw)
                and parse_cell(raw) is None
            ):
                row.error_text = f"error text in {key}: {short(raw)}"
                break
        if rec.context:
            inherited, inherited_config = self.fields.inherited(rec.context)
            for name in ROW_FIELDS:
                if getattr(row, name) is None:
                    setattr(row, name, getattr(inherited, name))
            for k, v in inherited_config.items():
                config.setdefault(k, v)
        if row.failure is None and row.error_text is not None:
            row.failure = row.error_text
            row.failure_kind = "error_text_success" if row.success else "error_text"
        origin = rec.origin
        # unknown keys count in data files only (skipped before their value is parsed)
        columns = plan.metrics if origin == "data" else plan.known
        if not columns and row.failure is None:
            # no number to read and no failed run to record (a third of a corpus's records,
            # mostly text rows of Markdown tables); an explicit model name still counts
            if origin == "data" and isinstance(row.model, str) and row.model.strip():
                self.models.add(sys.intern(row.model.strip()))
            return
        if not config and row.label:
            config["config"] = row.label
        items = tuple(config.items())
        cfg = self._configs.get(items)
        if cfg is None:
            cfg = tuple(sorted(items, key=lambda kv: (_ORDER.get(kv[0], 99), kv[0])))
            if len(self._configs) < 4096:
                self._configs[items] = cfg
        model: str | None = None
        model_from = "none"
        hints = rec.hints + path_hints if rec.hints else path_hints
        if isinstance(row.model, str) and row.model.strip():
            model, model_from, hints = sys.intern(row.model.strip()), "field", ()
            if rec.origin == "data":
                self.models.add(model)
        elif row.tag or "quantization" in config:
            hints = (("tag", row.tag or config["quantization"]), *hints)
        facts: list[Fact] = []

        def fact(
            locator: str,
            key: str,
            metric: str,
            aggregate: str | None,
            value: float,
            unit: str,
            recognized: bool,
            decimals: int,
        ) -> Fact:
            """A fact of this row: what the row shares (its failure too, once it is known to
            have failed: a fact is made failed once, not made and then made again), and what
            the cell says."""
            return Fact(
                source,
                locator,
                origin,
                family,
                model,
                model_from,
                cfg,
                metric,
                aggregate,
                value,
                unit,
                key,
                recognized,
                row.failure is not None,
                row.failure,
                row.failure_kind,
                decimals,
                idx,
                hints,
            )

        # _failures has work only for a failed row, a zero measurement or a NaN/inf value
        suspect = row.failure is not None
        # 'line 3.tokens_s' / '$.runs[0].ttft_s': data-file locators name the key
        dotted = origin == "data" and rec.locator.startswith(("$", "line "))
        for key, info, target in columns:
            raw = values[key]
            if raw.__class__ is str:  # most cells: text to parse (no second call)
                assert isinstance(raw, str)
                cell: Cell | Missing | None = parse_cell(raw) if raw.strip() else MISSING
            else:
                cell = cell_number(raw)
            if cell is None:
                continue
            locator = sys.intern(f"{rec.locator}.{key}") if dotted else rec.locator
            if info.role == "other":
                if isinstance(cell, Missing):
                    continue
                num, decimals, cell_unit = cell
                if not math.isfinite(num) or _epochish(info.name, num):
                    continue
                facts.append(
                    fact(
                        locator,
                        key,
                        info.name,
                        None,
                        num,
                        cell_unit or info.unit or "",
                        False,
                        decimals,
                    )
                )
                continue
            if isinstance(cell, Missing):
                if row.failure is None:
                    continue
                facts.append(
                    fact(
                        locator,
                        key,
                        info.name,
                        info.aggregate,
                        math.nan,
                        target,
                        True,
                        0,
                    )
                )
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
            facts.append(
                fact(locator, key, info.name, info.aggregate, value, target, True, decimals)
            )
        if plan.may_derive:
            _derive_rate(facts)
            suspect = True  # the derived rate may be 0
        if facts and suspect:
            self._failures(facts, row)
        if not facts and row.failure is not None:
            # a failed run with no numbers at all still counts as a run that failed
            facts.append(
                fact(
                    rec.locator,
                    "",
                    "failed_run",
                    None,
                    math.nan,
                    "",
                    False,
                    0,
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
            column = self._columns.get(key)
            if column is None:
                column = self._column(key)
                if len(self._columns) < 16384:
                    self._columns[key] = column
            kind, info, unit = column
            if kind == "control":
                control.append((key, info))
            elif kind != "skip":
                metrics.append((key, info, unit))
                if kind == "text":
                    texts.append(key)
        plain = {i.name for _, i, _ in metrics if i.role == "metric" and i.aggregate is None}
        may_derive = "eval_count" in plain and "eval_s" in plain
        known = tuple(m for m in metrics if m[1].role != "other")
        plan = _Plan(tuple(control), tuple(metrics), tuple(texts), may_derive, known)
        if len(self._plans) < 1024:
            self._plans[keys] = plan
        return plan

    def _column(self, key: str) -> tuple[str, FieldInfo, str]:
        """How a plan uses a key (plans share keys: each is looked at once): (control, info,
        ''), (metric or text, info, normalized unit) or (skip, info, ''); a text metric's
        value is also checked for error messages."""
        if key == "__column__":
            return "skip", FieldInfo("ignore", key), ""
        child = key.startswith("@")  # '@compilation.success': a child object's status
        info = self.cls.classify(key.rsplit(".", 1)[-1] if child else key)
        if child:
            status = info.role in ("failure", "success", "status")
            return ("control" if status else "skip"), info, ""
        if info.role in ("metric", "other"):
            return ("metric" if _promptish(key) else "text"), info, metric_unit(info.name)
        return ("skip" if info.role == "ignore" else "control"), info, ""

    def _failures(self, facts: list[Fact], row: Row) -> None:
        if row.failure is None:
            measured = [
                f
                for f in facts
                if f.recognized and f.metric not in _COUNTS and not math.isnan(f.value)
            ]
            if len(measured) >= 2 and all(f.value == 0 for f in measured):
                row.failure, row.failure_kind = "all measurements are 0", "zeros"
            else:
                zero = next((f for f in measured if f.value == 0 and f.metric in _NEVER_ZERO), None)
                if zero is not None:
                    row.failure, row.failure_kind = f"{zero.original_key} is 0", "zero_rate"
        for i, f in enumerate(facts):
            if row.failure is not None:
                if not f.failed:  # failed since it was made (all 0, a rate of 0), or derived
                    facts[i] = f.with_failure(row.failure, row.failure_kind)
            elif not math.isfinite(f.value):
                facts[i] = f.with_failure("value is NaN/inf", "nan")


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


def _promptish(key: str) -> bool:
    """A key for a prompt or a description (its text may mention errors without being one)."""
    if not key.isascii():
        return _PROMPTISH.search(key) is not None
    low = key.lower()  # for ASCII, what the case-blind pattern matches
    return (
        "prompt" in low
        or "question" in low
        or "query" in low
        or "instruction" in low
        or "input" in low
        or "test_name" in low
        or "description" in low
    )


def _epochish(name: str, value: float) -> bool:
    return "time" in name and 9e8 < value < 4.2e9
