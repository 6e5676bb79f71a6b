"""Claims in prose: 'Label: 12.3 unit' and 'key=12.3' pairs in Markdown and text lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chimera.ingest.records import Hint, RawRecord

_NUM = r"[~≈]?[-+]?\d[\d,]*(?:\.\d+)?"
_UNIT = (
    r"(?:tok(?:en)?s?\s*/\s*s(?:ec(?:ond)?)?|tokens?\s+per\s+sec(?:ond)?|t/s|seconds?|"
    r"secs?|ms|s|ns|us|µs|%|tokens)"
)
_VALUE = rf"(?P<value>{_NUM}(?:\s*{_UNIT})?)(?![\w/])"
# 'Label: value' at the start of a line or bullet segment
_COLON = re.compile(rf"^\s*\**(?P<label>[A-Za-z][^:=|*\n]{{0,60}}?)\**\s*:\s*\**\s*{_VALUE}")
# The label's run is possessive ({0,40}+): a shorter label would leave a word character before
# the '=', which cannot match, so backtracking into it only costs time.
_EQUALS = re.compile(rf"(?<![\w.])`?(?P<label>[A-Za-z_][\w.]{{0,40}}+)`?\s*=\s*`?{_VALUE}")
_WORD_VALUE = re.compile(
    r"(?<![\w.])`?(?P<label>[A-Za-z_][\w.]{0,40}+)`?\s*=\s*`?(?P<value>"
    r"[A-Za-z0-9_.:+-]+)"
)
# 'Device: cpu' (a configuration line whose value is a word)
_COLON_WORD = re.compile(
    r"^\s*\**(?P<label>[A-Za-z][\w ]{0,30}?)\**\s*:\s*\**\s*`?(?P<value>[\w.:+-]+)`?\s*$"
)
# 'label: 12.5' or 'key=12.5' somewhere on the line (the cheap test before the real parse)
_NUMERIC_KV = re.compile(r"[:=]\s*[*`]*\s*[~≈+-]?\d")
_MODEL_WORD = re.compile(r"model", re.IGNORECASE)


class ConfigWords:
    """Tells configuration labels apart; its regex finds the lines that may set one."""

    def __init__(self, is_config_key: Callable[[str], bool], names: Iterable[str]) -> None:
        self._check = is_config_key
        words = sorted({n.replace("_", "[ _]?") for n in names if n}, key=len, reverse=True)
        alternatives = "|".join(words)
        self._mention = re.compile(r"(?i)\b(?:" + alternatives + r")\b") if words else None
        # On ASCII text (and ASCII names), lower-casing first then matching case-sensitively
        # gives the same answer 2-3x faster: IGNORECASE costs on every character tried.
        self._mention_lower = (
            re.compile(r"\b(?:" + alternatives.lower() + r")\b")
            if words and alternatives.isascii()
            else None
        )

    def __call__(self, label: str) -> bool:
        return self._check(label)

    def mentioned(self, line: str) -> bool:
        if self._mention is None:
            return False
        if self._mention_lower is not None and line.isascii():
            return self._mention_lower.search(line.lower()) is not None
        return self._mention.search(line) is not None


_BULLET_SPLIT = re.compile(r"(?:^|\s)[-*•]\s+")
_SUBJECT = re.compile(r"^\s*`?(?P<subject>[\w.:+-]+)`?\s*:\s*(?:$|[-*]|\w+=)")
_MODEL_LINE = re.compile(
    r"^\s*[-*]?\s*\**(?:model|model name)\**\s*:\**\s*`?(?P<model>[\w.:/+-]+)`?", re.IGNORECASE
)


@dataclass(slots=True)
class ProseState:
    """What earlier lines established: the document's model and the section's configuration."""

    doc_model: str | None = None
    config: dict[str, str] = field(default_factory=dict)

    def context(self) -> tuple[tuple[str, object], ...]:
        return tuple(self.config.items())


def scan_line(
    line: str,
    lineno: int,
    state: ProseState,
    hints: tuple[Hint, ...],
    is_config_key: object,
    out: list[RawRecord],
) -> None:
    """Append a record for every labelled number on ``line``; remember config and model lines.

    ``is_config_key`` is a callable telling whether a label names a configuration key.
    """
    if ":" not in line and "=" not in line:
        return  # nothing labelled here: most prose lines end now (before any regex runs)
    has_digit = _NUMERIC_KV.search(line) is not None
    if (
        not has_digit
        and isinstance(is_config_key, ConfigWords)
        and not (is_config_key.mentioned(line) or _MODEL_WORD.search(line))
    ):
        return
    check = is_config_key if callable(is_config_key) else (lambda _k: False)
    m = _MODEL_LINE.match(line)
    if m is not None:
        state.doc_model = m.group("model")
    # '=' tests first: _WORD_VALUE and _EQUALS need one, and their searches try every position
    has_equals = "=" in line
    if has_equals:
        for m in _WORD_VALUE.finditer(line):
            if check(m.group("label")):
                state.config[m.group("label")] = m.group("value").rstrip(",.")
    # a split needs a bullet character; most lines have none, and the search tries every position
    segs = _BULLET_SPLIT.split(line) if ("-" in line or "*" in line or "•" in line) else (line,)
    for seg in segs:
        if not seg.strip():
            continue
        seg_hints = hints
        s = _SUBJECT.match(seg)
        if s is not None and not check(s.group("subject")):
            seg_hints = (("label", s.group("subject")), *hints)
        if state.doc_model:
            seg_hints = (*seg_hints, ("doc", state.doc_model))
        found: dict[str, str] = {}
        w = _COLON_WORD.match(seg)
        if w is not None and check(w.group("label")):
            state.config[w.group("label")] = w.group("value")
        if not has_digit:
            continue
        c = _COLON.match(seg)
        if c is not None:
            label = c.group("label").strip()
            if check(label):
                state.config[label] = c.group("value")
            else:
                found[label] = c.group("value")
        if has_equals and "=" in seg:
            for m in _EQUALS.finditer(seg):
                label = m.group("label").strip()
                if label not in found and not check(label):
                    found[label] = m.group("value")
        for label, value in found.items():
            out.append(
                RawRecord(f"line {lineno}", {label: value}, state.context(), seg_hints, "prose")
            )


def read_text(
    lines: list[str], is_config_key: object, max_line_chars: int
) -> tuple[list[RawRecord], int]:
    """Records for the labelled numbers of a plain-text file; also the count of lines too long
    to scan."""
    state = ProseState()
    out: list[RawRecord] = []
    long_lines = 0
    for n, line in enumerate(lines, 1):
        if len(line) > max_line_chars:
            long_lines += 1
            continue
        if not line.strip():
            continue
        scan_line(line, n, state, (), is_config_key, out)
    return out, long_lines
