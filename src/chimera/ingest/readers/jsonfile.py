"""JSON and JSONL: every object with numbers becomes a record; ancestors give it context."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from chimera.ingest.fields import (
    FAILURE_KEYS,
    MODEL_KEYS,
    OPTIONS_KEYS,
    STATUS_KEYS,
    SUCCESS_KEYS,
)
from chimera.ingest.records import Parsed, RawRecord, SkipReason

_STATUS_CHILD = FAILURE_KEYS | SUCCESS_KEYS | STATUS_KEYS
_SCHEMA_DEPTH = 4
_SCHEMA_MAX = 400


class JSONProblem(Exception):
    """The document cannot be parsed; ``reason`` is 'malformed' or 'too_deep'."""

    def __init__(self, reason: SkipReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def loads(text: str) -> Any:
    """Parse one JSON document: orjson, then the stdlib for NaN/Infinity; depth-guarded."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            raise JSONProblem("too_deep", "JSON nested more than 1024 levels deep") from None
        first_error = str(exc)
    try:
        # The stdlib accepts NaN/Infinity, which Python's json.dump writes; orjson refuses them.
        return json.loads(text)
    except RecursionError:
        raise JSONProblem("too_deep", "JSON nested too deeply to parse") from None
    except ValueError:
        raise JSONProblem("malformed", f"not valid JSON ({first_error})") from None


def flatten(
    doc: Any,
    parsed: Parsed,
    *,
    max_depth: int,
    max_records: int,
    prefix: str = "$",
    schema: set[str] | None = None,
) -> None:
    """Append a record for every object holding numbers (iteratively: depth is untrusted)."""
    stack: list[tuple[Any, str, tuple[tuple[str, object], ...], int, str]] = [
        (doc, prefix, (), 0, "")
    ]
    deep_note = False
    while stack:
        node, path, ctx, depth, spath = stack.pop()
        if depth > max_depth:
            if not deep_note:
                parsed.notes.append(
                    (
                        "truncated",
                        f"objects nested deeper than {max_depth} "
                        f"levels were not read (first at {path})",
                    )
                )
                deep_note = True
            continue
        if isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                child = node[i]
                if isinstance(child, dict | list):
                    stack.append((child, f"{path}[{i}]", ctx, depth + 1, spath + "[]"))
            continue
        if not isinstance(node, dict):
            continue
        values: dict[str, object] = {}
        extra: list[tuple[str, object]] = []
        children: list[tuple[str, Any]] = []
        keep_schema = schema is not None and depth < _SCHEMA_DEPTH  # tested once per object
        for key, v in node.items():
            k = str(key)
            if isinstance(v, dict):
                low = k.lower()
                if low in OPTIONS_KEYS or low in MODEL_KEYS:
                    values[k] = v  # options / model objects are read whole
                else:
                    for ck, cv in v.items():
                        if str(ck).lower() in _STATUS_CHILD and not isinstance(cv, dict | list):
                            extra.append((f"@{k}.{ck}", cv))
                children.append((k, v))
            elif isinstance(v, list):
                children.append((k, v))
            else:
                values[k] = v
            if keep_schema and schema is not None and len(schema) < _SCHEMA_MAX:
                schema.add(f"{spath}.{k}" if spath else k)
        if extra:
            values.update(extra)
        has_number = False
        for v in values.values():
            if isinstance(v, int | float) and not isinstance(v, bool):
                has_number = True
                break
        if has_number or any(k.lower() in _STATUS_CHILD for k in values):
            if len(parsed.records) >= max_records:
                parsed.notes.append(
                    ("truncated", f"only the first {max_records} objects were read")
                )
                return
            parsed.records.append(RawRecord(path, values, ctx))
        child_ctx = ctx + tuple(
            (k, v) for k, v in values.items() if not (isinstance(v, str) and len(v) > 200)
        )
        for k, v in reversed(children):
            stack.append((v, f"{path}.{k}", child_ctx, depth + 1, f"{spath}.{k}" if spath else k))


def read_json(text: str, *, max_depth: int, max_records: int) -> Parsed:
    """Parse a JSON document into records; raises JSONProblem when it cannot be parsed."""
    parsed = Parsed(first_line=text[:200])
    doc = loads(text)
    schema: set[str] = set()
    flatten(doc, parsed, max_depth=max_depth, max_records=max_records, schema=schema)
    parsed.schema = tuple(sorted(schema))
    _note_nonfinite(doc, parsed)
    return parsed


def _note_nonfinite(doc: Any, parsed: Parsed) -> None:
    for rec in parsed.records:
        for k, v in rec.values.items():
            if isinstance(v, float) and not math.isfinite(v):
                parsed.notes.append(("nonfinite", f"{rec.locator}.{k} is {v}"))
                return


def read_jsonl(text: str, lines: list[str], *, max_depth: int, max_records: int) -> Parsed:
    """One JSON value per line; a bad line is reported and skipped, the rest are read."""
    parsed = Parsed(first_line=text[:200])
    bad: list[int] = []
    schema: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = loads(line)
        except JSONProblem:
            bad.append(n)
            continue
        flatten(
            doc,
            parsed,
            max_depth=max_depth,
            max_records=max_records,
            prefix=f"line {n}: $",
            schema=schema,
        )
        if len(parsed.records) >= max_records:
            break
    parsed.schema = tuple(sorted(schema))
    if bad:
        shown = ", ".join(str(b) for b in bad[:8]) + (" ..." if len(bad) > 8 else "")
        parsed.notes.append(
            (
                "malformed_rows",
                f"{len(bad)} line(s) are not valid JSON (lines {shown}) and were skipped",
            )
        )
    return parsed
