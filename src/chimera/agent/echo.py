"""Find and strip text an LLM copied from its prompt's instructions (pure).

Small models often answer with the instructions themselves ("Aim for 300-400 words. Do not add
a title, date or author line"). A sentence is an echo when most of its words sit in runs of
``ECHO_NGRAM`` words that also occur, in order, in an instruction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chimera.agent.personas import Persona
from chimera.agent.prompts import (
    FACTS_CLOSE,
    FACTS_OPEN,
    analysis_messages,
    report_messages,
    summary_messages,
)

ECHO_NGRAM = 4  # words in a run shared with an instruction; 3 matched too much ordinary prose
MIN_ECHO_WORDS = 5  # covered words a sentence needs to be an echo ("Aim for 300-400 words")
MIN_ECHO_SHARE = 0.6  # share of a sentence's words covered by instruction runs

_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PREFIX = re.compile(r"^(\s*(?:#{1,6}\s+|>\s*|(?:[-*+•]|\d{1,3}[.)])\s+)?)")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+.*|\*\*[^*]+\*\*:?)\s*$")
_MAX_HEADING_WORDS = 8  # a short heading is the instructed layout, not an echo
_QUOTED = re.compile(re.escape(FACTS_OPEN) + r".*?" + re.escape(FACTS_CLOSE), re.S)


@dataclass(frozen=True, slots=True)
class Echo:
    """Text copied from the instructions: its 1-based line, the text, and its word count."""

    line: int
    text: str
    words: int


def instruction_texts(personas: Iterable[Persona]) -> list[str]:
    """Every instruction an agent with one of ``personas`` is given: the persona prompt and
    the two calls' instructions, with the quoted data (the digest, the analysis) left out:
    copying the data is what a report should do."""
    texts: list[str] = []
    for persona in personas:
        texts.append(persona.prompt)
        calls = (
            analysis_messages(persona, "", "lines"),
            analysis_messages(persona, "", "json"),
            report_messages(persona, "", ""),
            summary_messages(persona, ""),
        )
        for messages in calls:
            texts += [_QUOTED.sub("\n", m.content) for m in messages if m.role == "user"]
    return list(dict.fromkeys(texts))


def find_echoes(body: str, instructions: Sequence[str]) -> list[Echo]:
    """Every sentence of ``body`` echoed from ``instructions`` (whole lines when all of a
    line's sentences are echoes), in order."""
    return [echo for _, echoes, _ in _scan(body, instructions) for echo in echoes]


def strip_echoes(body: str, instructions: Sequence[str]) -> tuple[str, list[str]]:
    """``body`` without the text echoed from ``instructions``, and the removed text (a whole
    line, or the echoed sentences of a line that says something else too)."""
    kept: list[str] = []
    removed: list[str] = []
    for _, echoes, rest in _scan(body, instructions):
        removed += [e.text for e in echoes]
        if rest is not None:
            kept.append(rest)
    text = "\n".join(kept)
    # A removed line must not leave a gap of its own between paragraphs.
    return (re.sub(r"\n{3,}", "\n\n", text) if removed else text), removed


def _scan(body: str, instructions: Sequence[str]) -> list[tuple[str, list[Echo], str | None]]:
    """Per line of ``body``: the line, its echoes, and what remains of it (None when the whole
    line is an echo; the line itself when it has none)."""
    grams = {g for text in instructions for g in _grams(_TOKEN.findall(text.lower()))}
    out: list[tuple[str, list[Echo], str | None]] = []
    for number, line in enumerate(body.replace("\r\n", "\n").split("\n"), 1):
        if not grams or not line.strip() or _short_heading(line):
            out.append((line, [], line))
            continue
        prefix = _PREFIX.match(line)
        lead = prefix.group(1) if prefix else ""
        sentences = _SENTENCE_END.split(line[len(lead) :])
        echoed = [_is_echo(s, grams) for s in sentences]
        if not any(echoed):
            out.append((line, [], line))
        elif all(e or not _TOKEN.search(s.lower()) for s, e in zip(sentences, echoed, strict=True)):
            out.append((line, [Echo(number, line.strip(), len(line.split()))], None))
        else:
            echoes = [
                Echo(number, s.strip(), len(s.split()))
                for s, e in zip(sentences, echoed, strict=True)
                if e
            ]
            rest = " ".join(s for s, e in zip(sentences, echoed, strict=True) if not e)
            out.append((line, echoes, lead + rest))
    return out


def _grams(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + ECHO_NGRAM]) for i in range(len(tokens) - ECHO_NGRAM + 1)}


def _is_echo(sentence: str, grams: set[tuple[str, ...]]) -> bool:
    tokens = _TOKEN.findall(sentence.lower())
    covered: set[int] = set()
    for i in range(len(tokens) - ECHO_NGRAM + 1):
        if tuple(tokens[i : i + ECHO_NGRAM]) in grams:
            covered.update(range(i, i + ECHO_NGRAM))
    return len(covered) >= MIN_ECHO_WORDS and len(covered) >= MIN_ECHO_SHARE * len(tokens)


def _short_heading(line: str) -> bool:
    return bool(_HEADING.match(line)) and len(line.split()) <= _MAX_HEADING_WORDS + 1
