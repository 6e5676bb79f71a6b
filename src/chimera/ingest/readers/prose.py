"""Claims in prose: 'Label: 12.3 unit' and 'key=12.3' pairs in Markdown and text lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from chimera.ingest.readers.textlines import long_line_starts, prepare
from chimera.ingest.records import Hint, RawRecord

_NUM = r"[~≈]?[-+]?\d[\d,]*(?:\.\d+)?"
_UNIT = (
    r"(?:tok(?:en)?s?\s*/\s*s(?:ec(?:ond)?)?|tokens?\s+per\s+sec(?:ond)?|t/s|seconds?|"
    r"secs?|ms|s|ns|us|µs|%|tokens)"
)
_VALUE = rf"(?P<value>{_NUM}(?:\s*{_UNIT})?)(?![\w/])"
# 'Label: value' at the start of a line or bullet segment
# (the label is possessive: it cannot hold the ':' it ends at, so a shorter one differs only
# by trailing whitespace, which the reader strips)
_COLON = re.compile(rf"^\s*\**(?P<label>[A-Za-z][^:=|*\n]{{0,60}}+)\**\s*:\s*\**\s*{_VALUE}")
# The label's run is possessive ({0,40}+): a shorter label would leave a word character before
# the '=', which cannot match, so backtracking into it only costs time.
_EQUALS = re.compile(rf"(?<![\w.])`?(?P<label>[A-Za-z_][\w.]{{0,40}}+)`?\s*=\s*`?{_VALUE}")
_WORD_VALUE = re.compile(
    r"(?<![\w.])`?(?P<label>[A-Za-z_][\w.]{0,40}+)`?\s*=\s*`?(?P<value>"
    r"[A-Za-z0-9_.:+-]+)"
)
# 'Device: cpu' (a configuration line whose value is a word; a shorter value would leave a
# value character before the end, so the value's run is possessive)
_COLON_WORD = re.compile(
    r"^\s*\**(?P<label>[A-Za-z][\w ]{0,30}?)\**\s*:\s*\**\s*`?(?P<value>[\w.:+-]++)`?\s*$"
)
# 'label: 12.5' or 'key=12.5' somewhere on the line (the cheap test before the real parse)
_NUMERIC_KV = re.compile(r"[:=]\s*[*`]*\s*[~≈+-]?\d")
_MODEL_WORD = re.compile(r"model", re.IGNORECASE)
# The lines scan_line can act on, searched in a whole prepared text (see textlines); each
# pattern starts with a literal, which a search skips to fast, and ends with the rest of the
# line (one match per line). A ':' with a number after it (_NUMERIC_KV), with 'model' or
# 'model name' before it (_MODEL_LINE: [mM][oO]... is what IGNORECASE matches) or '*' or
# whitespace before it (_MODEL_LINE's '\**\s*'), or ': word' ending the line or a bullet
# segment (_COLON_WORD); an '=' with a number or a word after it (_NUMERIC_KV, _WORD_VALUE).
# They may find more lines, never fewer; [^\S\n] is \s on one line.
_COLON_LINE = re.compile(
    r":(?:(?<=[mM][oO][dD][eE][lL]:)|(?<=[mM][oO][dD][eE][lL] [nN][aA][mM][eE]:)|(?<=[*\s]:)"
    r"|[^\S\n]*[*`]*[^\S\n]*[~≈+-]?\d"
    r"|[^\S\n]*\**[^\S\n]*`?[\w.:+-]++`?[^\S\n]*(?:$|[-*•]))[^\n]*",
    re.MULTILINE,
)
_EQUALS_LINE = re.compile(r"=[^\S\n]*[*`]*[^\S\n]*[~≈\w.:+-][^\n]*")


def claim_lines(t: str) -> set[int]:
    """Where the lines of prepared text ``t`` that scan_line may act on start."""
    rfind = t.rfind
    starts = {rfind("\n", 0, m.start()) + 1 for m in _COLON_LINE.finditer(t)}
    starts.update([rfind("\n", 0, m.start()) + 1 for m in _EQUALS_LINE.finditer(t)])
    return starts


_NON_ASCII_WORD = re.compile(r"[^\W\x00-\x7f]")  # a word character outside ASCII


class ConfigWords:
    """Tells configuration labels apart; its regex finds the lines that may set one."""

    def __init__(self, is_config_key: Callable[[str], bool], names: Iterable[str]) -> None:
        self._check = is_config_key
        self._known: dict[str, bool] = {}  # labels repeat across lines and files
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
        known = self._known.get(label)
        if known is None:
            known = self._known[label] = self._check(label)
        return known

    def mentioned(self, line: str) -> bool:
        if self._mention is None:
            return False
        if self._mention_lower is not None:
            if line.isascii():
                return self._mention_lower.search(line.lower()) is not None
            if _NON_ASCII_WORD.search(line) is None:
                # Other characters match no ASCII name either way (the four that IGNORECASE
                # folds to ASCII letters, like the Kelvin sign, are word characters), and '?'
                # is a non-word character like them.
                ascii_line = line.encode("ascii", "replace").decode("ascii")
                return self._mention_lower.search(ascii_line.lower()) is not None
        return self._mention.search(line) is not None


_BULLET_SPLIT = re.compile(r"(?:^|\s)[-*•]\s+")  # what _segments splits at
# A bullet character whose predecessor is whitespace or nothing (the lookbehind spans the
# predecessor and the bullet); the character class first lets the search skip ahead in C.
_BULLET = re.compile(r"[-*•](?<!\S.)\s+")
# a label (1 + 40 characters) with a backtick on each side
_EQ_REACH = 43
# a run of label characters ([\w.]), read backwards from an '='
_LABEL_RUN = re.compile(r"[\w.]+")
_LABEL_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
# characters a search tries per '=' before a per-'=' match is the cheaper way (measured)
_EQ_DENSE = 40
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
    config = state.config
    has_equals = "=" in line
    if has_equals:
        for label, value in _eq_pairs(_WORD_VALUE, line):
            if check(label):
                config[label] = value.rstrip(",.")
    for seg in _segments(line):
        # every pattern below needs a ':' or an '=' in the segment
        has_colon = ":" in seg
        if has_colon:
            w = _COLON_WORD.match(seg)
            if w is not None and check(w.group("label")):
                config[w.group("label")] = w.group("value")
        elif not has_digit or not has_equals or "=" not in seg:
            continue
        if not has_digit:
            continue
        found: dict[str, str] = {}
        if has_colon:
            c = _COLON.match(seg)
            if c is not None:
                label = c.group("label").strip()
                if check(label):
                    config[label] = c.group("value")
                else:
                    found[label] = c.group("value")
        if has_equals and "=" in seg:
            for label, value in _eq_pairs(_EQUALS, seg):
                label = label.strip()
                if label not in found and not check(label):
                    found[label] = value
        if found:
            _emit(found, seg, lineno, state, hints, check, out)


def _emit(
    found: dict[str, str],
    seg: str,
    lineno: int,
    state: ProseState,
    hints: tuple[Hint, ...],
    check: Callable[[str], bool],
    out: list[RawRecord],
) -> None:
    """One record per labelled number of a bullet segment, with the segment's subject."""
    s = _SUBJECT.match(seg)
    if s is not None and not check(s.group("subject")):
        hints = (("label", s.group("subject")), *hints)
    if state.doc_model:
        hints = (*hints, ("doc", state.doc_model))
    context = state.context()
    locator = f"line {lineno}"
    for label, value in found.items():
        out.append(RawRecord(locator, {label: value}, context, hints, "prose"))


def _segments(line: str) -> list[str] | tuple[str]:
    """The non-empty parts of ``_BULLET_SPLIT.split(line)`` (empty ones hold nothing to read),
    found from the bullet characters (a fast search) instead of from every position."""
    if "-" not in line and "*" not in line and "•" not in line:
        return (line,)
    search = _BULLET.search
    m = search(line)
    if m is None:
        return (line,)
    segs = []
    last = 0
    while m is not None:
        cut = m.start() - 1 if m.start() else 0  # a separator starts with its whitespace
        if cut >= last:  # else that whitespace ended the separator before: no separator here
            if cut > last:
                segs.append(line[last:cut])
            last = m.end()
        m = search(line, m.end())
    if last < len(line):
        segs.append(line[last:])
    return segs


def _eq_pairs(pattern: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    """``pattern.findall(text)`` for _WORD_VALUE and _EQUALS (label, value), whose searches try
    every position. A match holds one '=' and its label is the whole run of word characters
    and dots before it (past an optional backtick and whitespace), so where sparse '='s sit in
    a long text, only the start of each one's label is tried."""
    q = text.find("=")
    if q < 0:
        return []
    lo = q
    while lo > 0 and text[lo - 1].isspace():
        lo -= 1
    lo = max(0, lo - _EQ_REACH)  # no match starts before this
    if len(text) - lo < _EQ_DENSE * text.count("=", q):
        return pattern.findall(text, lo)  # '='s close together: one search is cheaper
    pairs: list[tuple[str, str]] = []
    last = 0  # where the last match ended: the next may not start before
    while q >= 0:
        end = q
        while end > 0 and text[end - 1].isspace():
            end -= 1
        if end > 0 and text[end - 1] == "`":
            end -= 1
        run = _LABEL_RUN.match(text[max(0, end - _EQ_REACH + 1) : end][::-1])
        start = end - run.end() if run is not None and run.end() < _EQ_REACH - 1 else -1
        if start >= 0 and text[start] in _LABEL_FIRST:
            if start and text[start - 1] == "`" and (start < 2 or not _word(text[start - 2])):
                start -= 1  # the match takes the backtick before the label
            m = pattern.match(text, start) if start >= last else None
            if m is not None:
                pairs.append((m.group(1), m.group(2)))
                last = m.end()
        q = text.find("=", q + 1)
    return pairs


def _word(char: str) -> bool:
    """Whether ``char`` is a word character or a dot (a label character: ``[\\w.]``)."""
    return char.isalnum() or char in "_."


def read_text(text: str, is_config_key: object, max_line_chars: int) -> tuple[list[RawRecord], int]:
    """Records for the labelled numbers of a plain-text file; also the count of lines too long
    to scan."""
    t = prepare(text)
    state = ProseState()
    out: list[RawRecord] = []
    lineno = counted = 0
    for start in sorted(claim_lines(t)):
        end = t.find("\n", start)
        if end < 0:
            end = len(t)
        if end - start <= max_line_chars:
            lineno += t.count("\n", counted, start)
            counted = start
            scan_line(t[start:end], lineno, state, (), is_config_key, out)
    return out, len(long_line_starts(t, max_line_chars))
