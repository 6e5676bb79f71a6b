"""Line bookkeeping for readers that search a whole text instead of looping over its lines.

A prepared text has a newline in front and LF line ends, so every line (the first included)
starts right after a newline: a regex that starts with ``\\n`` finds line starts with a fast
literal search, and a line's number is the count of newlines before it. Lines are those of
``decode.split_lines``: CRLF, CR and LF end a line, and a final line end opens no empty line.
"""

from __future__ import annotations

import functools
import re

# a blank line: only whitespace between two newlines ([^\S\n] is \s without the newline)
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def prepare(text: str) -> str:
    """``text`` with a newline in front and CRLF and lone CR line ends made LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n" + text


def first_line(t: str) -> str:
    """The first line of a prepared text, cut at 200 characters."""
    return t[1:201].split("\n", 1)[0]


def line_end(t: str, start: int) -> int:
    """Where the line starting at ``start`` ends (its newline, or the end of the text)."""
    end = t.find("\n", start)
    return len(t) if end < 0 else end


@functools.lru_cache(maxsize=8)
def _long_line(max_line_chars: int) -> re.Pattern[str]:
    return re.compile(rf"\n[^\n]{{{max_line_chars + 1}}}")


def long_line_starts(t: str, max_line_chars: int) -> list[int]:
    """Start positions of the lines longer than ``max_line_chars``, in order.

    A search, not a split: a text this long may be one 50 MB line, and splitting it (or
    slicing off the leading newline) would copy it whole.
    """
    if len(t) - 1 <= max_line_chars:
        return []  # no line is longer than the text: the usual case costs nothing
    return [m.start() + 1 for m in _long_line(max_line_chars).finditer(t)]


def blank_between(t: str, start: int, stop: int, max_line_chars: int) -> bool:
    """Whether a blank line starts at or after line start ``start`` and before ``stop`` (a later
    line start); a blank line over ``max_line_chars`` is a long line, not a blank one."""
    m = BLANK_LINE.search(t, start - 1, stop)
    while m is not None and m.end() - m.start() - 2 > max_line_chars:
        m = BLANK_LINE.search(t, m.end() - 1, stop)
    return m is not None
