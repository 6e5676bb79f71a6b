"""Trace files: recorded requests replayed at their timestamps (``chimera load --trace``).

One JSON object a line: ``timestamp`` (seconds; the first line's is time 0, later ones must
not go back), and the request: ``prompt`` or ``messages``, or neither for a synthetic prompt
of ``input_tokens`` (the run's --input-tokens if not given); ``output_tokens`` (or
``max_tokens``) optional, else the run's --output-tokens. No other key. A bad line is a
ConfigError naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from chimera.errors import ConfigError
from chimera.load.prompts import PromptEntry, line_object, parse_entry

TRACE_KEYS = ("timestamp", "prompt", "messages", "input_tokens", "output_tokens", "max_tokens")


@dataclass(frozen=True, slots=True)
class Trace:
    offsets_s: list[float]  # send times from the first line's timestamp
    entries: list[PromptEntry]


def read_trace(path: Path) -> Trace:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"--trace: cannot read {path}: {exc.strerror or exc}") from None
    stamps: list[float] = []
    entries: list[PromptEntry] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = line_object(line, TRACE_KEYS)
            stamp = obj.get("timestamp")
            if isinstance(stamp, bool) or not isinstance(stamp, int | float):
                raise ValueError(f"timestamp must be a number of seconds, not {stamp!r}")
            if stamps and stamp < stamps[-1]:
                raise ValueError(f"timestamp {stamp:g} goes back before {stamps[-1]:g}")
            fields = {k: v for k, v in obj.items() if k != "timestamp"}
            entries.append(parse_entry(fields, synthetic=True))
        except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
            raise ConfigError(f"--trace: {path} line {n}: {exc}") from None
        stamps.append(float(stamp))
    if not entries:
        raise ConfigError(f"--trace: {path} has no requests")
    return Trace([t - stamps[0] for t in stamps], entries)
