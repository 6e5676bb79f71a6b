"""The requests a load run sends: synthetic prompts of a target token count, or a JSONL file.

Synthetic prompts are an instruction and filler words. How many tokens a word is depends on
the model's tokenizer and the chat template, so the count is calibrated against the server's
own prompt token count (two short probes give tokens per word and the fixed overhead); a
server that reports no prompt count leaves the target estimated (1.3 tokens a word).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from chimera.backends.base import Backend, ChatMessage, GenerationRequest, generate
from chimera.bench.measure import nonce_line
from chimera.errors import ConfigError, EmptyResponseError
from chimera.options import InferenceOptions

INSTRUCTION = "Continue the following list of words with a long, detailed story that uses them:"
ESTIMATED_TOKENS_PER_WORD = 1.3
_PROBE_WORDS = (16, 80)  # filler words of the two calibration probes

# Common, short English words: one or two tokens each in every tokenizer we know.
_WORD_TEXT = """
    time year people way day man thing woman life child world school state family student group
    country problem hand part place case week company system program question work government
    number night point home water room mother area money story fact month lot right study book
    eye job word business issue side kind head house service friend father power hour game line
    end member law car city community name president team minute idea kid body information back
    parent face others level office door health person art war history party result change
    morning reason research girl guy moment air teacher force education river garden window
    light music table paper market summer winter village road bridge mountain forest island
    ocean letter picture field animal bird horse apple bread stone glass fire wind rain snow
    cloud star moon tree flower color voice song dance
"""
WORDS: tuple[str, ...] = tuple(_WORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class Calibration:
    """Prompt tokens = ``overhead_tokens`` + ``tokens_per_word`` x filler words."""

    tokens_per_word: float
    overhead_tokens: float
    calibrated: bool  # True: measured from the server's own prompt token counts
    note: str

    def words_for(self, tokens: int) -> int:
        return max(1, self._words(tokens))

    def _words(self, tokens: int) -> int:
        return round((tokens - self.overhead_tokens) / self.tokens_per_word)

    @property
    def smallest_tokens(self) -> int:
        """The smallest synthetic prompt the server sees: the overhead and one word."""
        return round(self.overhead_tokens + self.tokens_per_word)

    def raises(self, tokens: int) -> bool:
        """Whether a target of ``tokens`` leaves no room for a word beside the overhead, so
        its prompt is sent at :attr:`smallest_tokens` instead."""
        return self._words(tokens) < 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens_per_word": self.tokens_per_word,
            "overhead_tokens": self.overhead_tokens,
            "calibrated": self.calibrated,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class RaisedSizes:
    """Synthetic prompt targets below what the calibrated overhead allows: each is sent at
    ``smallest_tokens``, not its own size."""

    targets: tuple[int, ...]
    smallest_tokens: int
    overhead_tokens: float
    source: str  # where the targets came from: "--input-tokens" or "the trace's input_tokens"

    @property
    def note(self) -> str:
        sizes = ", ".join(str(t) for t in self.targets)
        which = "is" if len(self.targets) == 1 else "are"
        return (
            f"{self.source} {sizes} {which} below the smallest prompt this server sees: "
            f"{self.smallest_tokens} tokens (the fixed {self.overhead_tokens:.0f} of chat "
            "template, instruction and nonce line, and one word); those requests are sent at "
            f"{self.smallest_tokens} prompt tokens"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets),
            "smallest_tokens": self.smallest_tokens,
            "note": self.note,
        }


ESTIMATE = Calibration(
    ESTIMATED_TOKENS_PER_WORD,
    0.0,
    False,
    f"estimated: the server reported no prompt token count ({ESTIMATED_TOKENS_PER_WORD} "
    "tokens a word assumed)",
)

NO_ANSWER_ESTIMATE = Calibration(
    ESTIMATED_TOKENS_PER_WORD,
    0.0,
    False,
    "estimated: the one-token calibration probes came back with no answer text (a reasoning "
    "model spends its token on reasoning) and no prompt token count; "
    f"{ESTIMATED_TOKENS_PER_WORD} tokens a word assumed",
)


@dataclass(frozen=True, slots=True)
class PromptEntry:
    """One line of a prompts or trace file: a plain prompt, chat messages, or (a trace line
    with neither) a synthetic prompt of ``input_tokens``; and its own token cap."""

    prompt: str | None
    messages: tuple[ChatMessage, ...] | None
    output_tokens: int | None
    input_tokens: int | None = None
    options: InferenceOptions | None = None  # set ones replace the run's (an agent's guards)
    json_schema: dict[str, Any] | None = None  # structured output, as the agent asks it

    @property
    def synthetic(self) -> bool:
        return self.prompt is None and self.messages is None


class Prompts:
    """Builds request ``i`` of a run: synthetic words, or a file's entries in turn."""

    def __init__(
        self,
        model: str,
        options: InferenceOptions,
        *,
        input_tokens: int,
        nonce: str | None,
        seed: int = 0,
        calibration: Calibration = ESTIMATE,
        entries: Sequence[PromptEntry] = (),
    ) -> None:
        self.model = model
        self.options = options
        self.input_tokens = input_tokens
        self.nonce = nonce  # the session tag; None = the same prompt every time (cache kept)
        self.seed = seed
        self.calibration = calibration
        self.entries = list(entries)

    def _words(self, index: int, n: int) -> str:
        rng = np.random.default_rng([self.seed, index])
        return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), n).tolist())

    def _first_line(self, index: int, kind: str = "q") -> str | None:
        return None if self.nonce is None else nonce_line(self.nonce, f"{kind}{index}")

    def synthetic_text(self, index: int, words: int, kind: str = "q") -> str:
        """Request ``index``'s prompt of ``words`` filler words (``kind`` "cal" for the
        calibration probes, so they share no nonce with a request). Without a nonce every
        request has the same words; the probes never do, or a cache would hide their size."""
        first = self._first_line(index, kind)
        if kind == "cal":
            seed = (1 << 20) + index  # never a request's words
        elif self.nonce is None:
            seed = 0  # the cache kept: one prompt for every request
        else:
            seed = index
        body = f"{INSTRUCTION}\n{self._words(seed, words)}"
        return body if first is None else f"{first}\n{body}"

    @property
    def needs_calibration(self) -> bool:
        return not self.entries or any(e.synthetic for e in self.entries)

    def raised_sizes(self) -> RaisedSizes | None:
        """The synthetic targets too small for the calibrated overhead and one word, sent
        larger than asked; None when every one fits."""
        source = "the trace's input_tokens" if self.entries else "--input-tokens"
        if self.entries:  # a trace line without input_tokens takes --input-tokens
            targets = {e.input_tokens or self.input_tokens for e in self.entries if e.synthetic}
        else:
            targets = {self.input_tokens}
        raised = tuple(sorted(t for t in targets if self.calibration.raises(t)))
        if not raised:
            return None
        cal = self.calibration
        return RaisedSizes(raised, cal.smallest_tokens, cal.overhead_tokens, source)

    def _synthetic(self, index: int, tokens: int, options: InferenceOptions) -> GenerationRequest:
        text = self.synthetic_text(index, self.calibration.words_for(tokens))
        messages = (ChatMessage(role="user", content=text),)
        return GenerationRequest(model=self.model, messages=messages, options=options)

    def request(self, index: int) -> GenerationRequest:
        if not self.entries:
            return self._synthetic(index, self.input_tokens, self.options)
        entry = self.entries[index % len(self.entries)]
        options = self.options
        if entry.options is not None:
            options = options.merged(entry.options)
        if entry.output_tokens is not None:
            options = options.model_copy(update={"num_predict": entry.output_tokens})
        if entry.synthetic:
            return self._synthetic(index, entry.input_tokens or self.input_tokens, options)
        first = self._first_line(index)
        if entry.prompt is not None:
            prompt = entry.prompt if first is None else f"{first}\n{entry.prompt}"
            return GenerationRequest(model=self.model, prompt=prompt, options=options)
        assert entry.messages is not None
        msgs = list(entry.messages)
        if first is not None:
            msgs[0] = ChatMessage(role=msgs[0].role, content=f"{first}\n{msgs[0].content}")
        return GenerationRequest(
            model=self.model, messages=tuple(msgs), options=options, json_schema=entry.json_schema
        )


async def calibrate(backend: Backend, prompts: Prompts) -> Calibration:
    """One-token probes with two word counts: the server's prompt counts give tokens per word
    and the overhead (template, instruction, nonce). Estimated when the server reports no
    count; a failing probe raises, as the run would fail the same way, except one with no
    answer text: the count its server reported still counts.

    Servers count only the prompt tokens they evaluate: a slot that has seen the chat
    template (and the nonce's shared start) skips them. The pair is sent twice and the second
    pair counted, so both probes meet a slot in the state the run's requests will meet.
    """
    counts: list[int] = []
    for i, words in enumerate(_PROBE_WORDS * 2):
        text = prompts.synthetic_text(i, words, kind="cal")
        request = GenerationRequest(
            model=prompts.model,
            messages=(ChatMessage(role="user", content=text),),
            options=prompts.options.model_copy(update={"num_predict": 1}),
        )
        answered = True
        try:
            result = await generate(backend, request)
        except EmptyResponseError as exc:  # a reasoning model spends its token on reasoning
            if exc.result is None:
                return NO_ANSWER_ESTIMATE
            result, answered = exc.result, False  # the prompt it counted is counted all the same
        if result.metrics.prompt_tokens is None:
            return ESTIMATE if answered else NO_ANSWER_ESTIMATE
        counts.append(result.metrics.prompt_tokens)
    few, many = counts[-2:]
    per_word = (many - few) / (_PROBE_WORDS[1] - _PROBE_WORDS[0])
    if per_word <= 0:
        return ESTIMATE
    overhead = few - per_word * _PROBE_WORDS[0]
    return Calibration(
        per_word,
        overhead,
        True,
        f"calibrated: the server counted {few} and {many} prompt tokens for "
        f"{_PROBE_WORDS[0]} and {_PROBE_WORDS[1]} words ({counts[0]} and {counts[1]} at first)",
    )


PROMPT_KEYS = ("prompt", "messages", "output_tokens", "max_tokens")
_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def line_object(line: str, allowed: Sequence[str]) -> dict[str, Any]:
    """One JSONL line as an object with only ``allowed`` keys; else a ValueError saying what
    the line is or which keys are unknown (a misspelled key must not be dropped unseen)."""
    obj = orjson.loads(line)
    if not isinstance(obj, dict):
        kind = _JSON_KINDS.get(type(obj), type(obj).__name__)
        raise ValueError(f"the line is {kind}, not a JSON object; write one object a line")
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        keys = ", ".join(repr(k) for k in unknown)
        raise ValueError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {keys}; the keys allowed are "
            + ", ".join(allowed)
        )
    return obj


def read_prompts(path: Path) -> list[PromptEntry]:
    """A JSONL file, one request a line: ``{"prompt": ...}`` or ``{"messages": [...]}``, with
    an optional ``output_tokens`` (or ``max_tokens``); no other key. A bad line is a
    ConfigError naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"--prompts: cannot read {path}: {exc.strerror or exc}") from None
    entries = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entries.append(parse_entry(line_object(line, PROMPT_KEYS)))
        except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
            raise ConfigError(f"--prompts: {path} line {n}: {exc}") from None
    if not entries:
        raise ConfigError(f"--prompts: {path} has no prompts")
    return entries


def _count(obj: dict[str, Any], *names: str) -> int | None:
    value = next((obj[n] for n in names if n in obj), None)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"{names[0]} must be a positive integer, not {value!r}")
    return value


def parse_entry(obj: Any, *, synthetic: bool = False) -> PromptEntry:
    """One request from a JSON object; ``synthetic`` (trace lines) lets it give only its
    sizes, ``input_tokens`` and ``output_tokens``, for a synthetic prompt."""
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object with prompt or messages")
    cap = _count(obj, "output_tokens", "max_tokens")
    size = _count(obj, "input_tokens")
    prompt, messages = obj.get("prompt"), obj.get("messages")
    if prompt is not None and messages is not None:
        raise ValueError("give exactly one of prompt or messages")
    if prompt is None and messages is None:
        if synthetic:
            return PromptEntry(None, None, cap, size)
        raise ValueError("give exactly one of prompt or messages")
    if prompt is not None:
        if not isinstance(prompt, str) or not prompt:
            raise ValueError("prompt must be a non-empty string")
        return PromptEntry(prompt, None, cap)
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages must be a non-empty list of {role, content}")
    try:
        msgs = tuple(ChatMessage.model_validate(m) for m in messages)
    except Exception as exc:  # pydantic's error, shortened to its first line
        raise ValueError(f"bad message: {str(exc).splitlines()[0]}") from None
    return PromptEntry(None, msgs, cap)
