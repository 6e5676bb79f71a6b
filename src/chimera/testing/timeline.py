"""The modelled engine's own account of each generation: when it arrived and when it was sent.

Opt-in (``TestServerConfig.timeline``, ``--timeline FILE``): one JSON line per generation
request, appended to the file. Times are integer nanoseconds on ``time.monotonic_ns()``,
which on Linux is CLOCK_MONOTONIC, the clock of ``time.perf_counter_ns()`` too, one clock
for every process of the machine, so a client's own stamps can be set beside them:

* ``tag``: the first line of the prompt's last text (a load run's nonce line, which names
  the request), at most 120 characters;
* ``received_ns``: when the request's last bytes were read (the modelled timeline's origin);
* ``due_ns``: when its first token was due (origin + prefill, after any queue or load);
* ``woke_ns``: when the engine woke to send it;
* ``first_write_ns``: just after the first token was handed to the socket (a transport
  write sends at once when nothing is queued before it);
* ``last_write_ns``: just after the last bytes of the response were handed over;
* ``tokens``: tokens written; ``stream``: streamed or one body.

A time that never came (a fault before the first token) is null. Lines are kept in memory
and written when the server has no generation in flight (and at stop), so writing them
never falls between the tokens they describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

TAG_CHARS = 120


def tag_of(texts: list[str]) -> str:
    """The first line of the last text: what names a request among a run's."""
    if not texts:
        return ""
    return texts[-1].lstrip().split("\n", 1)[0][:TAG_CHARS]


@dataclass(slots=True)
class Entry:
    """One generation's times (monotonic ns; 0 = did not happen)."""

    received_ns: int = 0
    due_ns: int = 0
    woke_ns: int = 0
    first_write_ns: int = 0
    last_write_ns: int = 0
    tokens: int = 0


class Timeline:
    """Appends entries to a JSONL file, written in batches when the server is idle."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: BinaryIO | None = None
        self._pending: list[bytes] = []

    def open(self) -> None:
        if self._file is None:
            self._file = self.path.open("ab")

    def add(self, tag: str, stream: bool, entry: Entry) -> None:
        def ns(value: int) -> int | None:
            return value or None

        self._pending.append(
            orjson.dumps(
                {
                    "tag": tag,
                    "stream": stream,
                    "received_ns": ns(entry.received_ns),
                    "due_ns": ns(entry.due_ns),
                    "woke_ns": ns(entry.woke_ns),
                    "first_write_ns": ns(entry.first_write_ns),
                    "last_write_ns": ns(entry.last_write_ns),
                    "tokens": entry.tokens,
                },
                option=orjson.OPT_APPEND_NEWLINE,
            )
        )

    def flush(self) -> None:
        if not self._pending or self._file is None:
            return
        self._file.write(b"".join(self._pending))
        self._file.flush()
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
