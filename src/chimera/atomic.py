"""Atomic file writes: write to a temp file beside the target, then rename over it.

A reader (or a crash) never sees half a file: the target is either the old or the new one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from chimera.errors import OutputError


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: setting it is process-wide, so not done per write


@contextmanager
def atomic_writer(
    path: Path | str,
    *,
    newline: str | None = None,
    binary: bool = False,
    durable: bool = True,
    private: bool = False,
) -> Iterator[IO[Any]]:
    """Open a temp file next to ``path``; on success it replaces ``path``, on error it goes.

    ``durable=False`` skips the fsync (a cache: losing it to a crash costs a rebuild, and the
    fsync would cost more than the write); ``private`` keeps mkstemp's owner-only mode.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}; choose another output path"
        ) from None
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would have.
        if not private:
            os.fchmod(fd, 0o666 & ~_UMASK)
        mode = "wb" if binary else "w"
        kw: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": newline}
        with os.fdopen(fd, mode, **kw) as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path | str, text: str) -> Path:
    with atomic_writer(path) as fh:
        fh.write(text)
    return Path(path)


def write_json(path: Path | str, data: Any) -> Path:
    with atomic_writer(path) as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
    return Path(path)
