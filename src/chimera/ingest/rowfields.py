"""What a record's other fields say: its model, tag, configuration and label, and whether the
run failed (an error field, success=false, a failed status)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from chimera.ingest.fields import FLOAT_CONFIG, INT_CONFIG, Classifier, FieldInfo
from chimera.ingest.values import config_value

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

ROW_FIELDS = ("model", "tag", "label", "failure", "failure_kind", "success")


@dataclass(slots=True)
class Row:
    """A record's model, tag, label and failure, as its fields (and enclosing objects) say."""

    model: object = None
    tag: str | None = None
    label: str | None = None
    failure: str | None = None
    failure_kind: str | None = None
    success: bool | None = None
    error_text: str | None = None


class RowFields:
    """Reads the non-numeric fields of one file's records into a Row and a configuration."""

    def __init__(self, classifier: Classifier) -> None:
        self.cls = classifier
        # one parse per distinct raw configuration value
        self._config_values: dict[tuple[str, type, object], str | None] = {}
        self._contexts: dict[int, tuple[object, Row, dict[str, str]]] = {}

    def new_file(self) -> None:
        """Forget the contexts of the last file (they are keyed by id())."""
        self._contexts.clear()

    def inherited(self, context: tuple[tuple[str, object], ...]) -> tuple[Row, dict[str, str]]:
        """What enclosing objects say (nearest first); siblings share one context tuple."""
        hit = self._contexts.get(id(context))
        if hit is not None and hit[0] is context:
            return hit[1], hit[2]
        row = Row()
        config: dict[str, str] = {}
        for key, raw in reversed(context):
            self._field(key, raw, row, config)
        self._contexts[id(context)] = (context, row, config)
        return row, config

    def _field(self, key: str, raw: object, row: Row, config: dict[str, str]) -> None:
        """An inherited (context) field: only model, configuration and failure matter."""
        child = key.startswith("@")
        info = self.cls.classify(key.rsplit(".", 1)[-1] if child else key)
        if child and info.role not in ("failure", "success", "status"):
            return
        self.apply(key, info, raw, row, config)

    def apply(
        self, key: str, info: FieldInfo, raw: object, row: Row, config: dict[str, str]
    ) -> None:
        """What field ``key`` (meaning ``info``) says, into ``row`` and ``config``; an earlier
        field that said the same thing wins."""
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
                row.failure, row.failure_kind = f"{key.lstrip('@')}: {short(str(raw))}", "error"
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
        key = (name, type(raw), raw)  # True, 1 and 1.0 are equal keys but not equal values
        if key in self._config_values:
            return self._config_values[key]
        v = _config(name, raw)
        if len(self._config_values) < 4096:
            self._config_values[key] = v
        return v


def short(text: str, limit: int = 100) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
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
