"""Config files read as TOML tables, and validation problems said on one line.

Every failure is a ConfigError naming the file, the line when the parser gives one, and the
field: the CLI prints it as one line and exits 2.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chimera.errors import ConfigError


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML document in ``path`` (``what`` names the file's role, e.g. 'scenario file')."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"cannot read the {what} {path}: no such {what}; check the path"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: line {line}: byte 0x{data[exc.start]:02X} is not UTF-8; "
            f"save the {what} as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message gives the line and column
        raise ConfigError(
            f"{path} is not valid TOML: {one_line(str(exc))}; fix the {what}"
        ) from None


def problems(exc: ValidationError) -> str:
    """Each field's problem, ``agents.0.url: Input should be a valid string; ...``, on one
    line (a key from the file may hold any character)."""
    parts = []
    for err in exc.errors():
        loc = ".".join(shown_key(p) for p in err["loc"]) or "?"
        parts.append(f"{loc}: {one_line(err['msg'])}")
    return "; ".join(parts)


def one_line(text: str) -> str:
    """``text`` with its whitespace runs (newlines included) made single spaces."""
    return " ".join(text.split())


def shown_key(part: object) -> str:
    """A key from a file as a message shows it: as written, or quoted when it holds a newline,
    other unprintable characters or edge spaces."""
    text = str(part)
    return text if text.isprintable() and text.strip() == text and text else repr(text)
