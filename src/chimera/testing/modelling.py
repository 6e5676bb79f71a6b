"""Pure pieces of the test servers' model: tokens, prompt counts, model cards, timings."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

NS_PER_MS = 1_000_000
DEFAULT_KEEP_ALIVE_S = 300.0  # Ollama's default keep_alive: 5 minutes
MODEL_SIZE_BYTES = 1_234_567_890
CONTEXT_LENGTH = 4096

_PIECE = re.compile(r"\s*\S+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def split_tokens(text: str) -> list[str]:
    """Split text into token pieces that keep their leading whitespace; they join back exactly."""
    pieces = _PIECE.findall(text)
    covered = sum(len(p) for p in pieces)
    if covered < len(text):  # trailing whitespace: part of the last piece (or the only one)
        tail = text[covered:]
        if pieces:
            pieces[-1] += tail
        else:
            pieces = [tail]
    return pieces


@functools.lru_cache(maxsize=16)
def default_text(tokens: int) -> str:
    """The answer when no canned responses are configured: 'tok1 tok2 ... tokN'."""
    return " ".join(f"tok{i}" for i in range(1, tokens + 1))


def count_words(*texts: str | None) -> int:
    """The servers' prompt token count: whitespace-separated words over all given texts."""
    return sum(len(t.split()) for t in texts if t)


def words(*texts: str | None) -> list[str]:
    """The modelled servers' prompt tokens: the words of the texts, in order."""
    return [w for t in texts if t for w in t.split()]


def truncate(pieces: list[str], limit: int | None) -> tuple[list[str], str]:
    """Apply num_predict / max_tokens: at most ``limit`` tokens; done reason 'length' if cut."""
    if limit is not None and 0 < limit < len(pieces):
        return pieces[:limit], "length"
    return pieces, "stop"


def parse_keep_alive(value: Any) -> float | None:
    """Ollama's keep_alive in seconds (number or Go duration like '5m'); None = default.

    A negative value keeps the model loaded forever and is returned as ``float('inf')``.
    """
    if value is None or isinstance(value, bool):
        return None
    seconds: float
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        text = text.lstrip("+-")
        try:
            seconds = sign * float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                return None
            seconds = sign * sum(float(n) * _UNIT_S[u] for n, u in parts)
    else:
        return None
    return float("inf") if seconds < 0 else seconds


def resolve_model(requested: str, models: list[str]) -> str | None:
    """The installed name a request means: exact, or 'name' for 'name:latest' (as Ollama does)."""
    if requested in models:
        return requested
    if ":" not in requested and f"{requested}:latest" in models:
        return f"{requested}:latest"
    return None


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def model_details() -> dict[str, Any]:
    """Ollama's ``details`` object for a model (a small llama-family GGUF)."""
    return {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "1.2B",
        "quantization_level": "Q4_K_M",
    }


def rfc3339(epoch_s: float) -> str:
    """A timestamp the way Ollama (Go) writes one, in UTC with a 'Z'."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_local(epoch_s: float) -> str:
    """A timestamp with a numeric UTC offset, as Ollama writes modified_at and expires_at."""
    return datetime.fromtimestamp(epoch_s, UTC).astimezone().isoformat()


def expires_at(epoch_s: float) -> str:
    """Ollama's expires_at; a model kept forever (keep_alive < 0) expires in the far future."""
    if epoch_s == float("inf"):
        return datetime(2318, 1, 1, tzinfo=UTC).isoformat()
    return rfc3339_local(epoch_s)


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What the catalogue says about one installed model; the Ollama endpoints render it."""

    name: str
    size: int  # bytes
    digest: str
    modified_epoch: float
    details: dict[str, Any]
    model_info: dict[str, Any]
    template: str
    parameters: str = ""
    license: str = ""
    source: str = ""  # what the Modelfile's FROM names


@dataclass(frozen=True, slots=True)
class Running:
    """One loaded model as /api/ps lists it."""

    name: str
    expires_epoch: float  # inf = kept loaded for good
    in_vram: bool
    context_length: int


def modelled_card(name: str, modified_epoch: float) -> ModelCard:
    """The catalogue entry of a modelled model (a small llama-family GGUF)."""
    return ModelCard(
        name=name,
        size=MODEL_SIZE_BYTES,
        digest=digest(name),
        modified_epoch=modified_epoch,
        details=model_details(),
        model_info={
            "general.architecture": "llama",
            "general.file_type": 15,
            "general.parameter_count": 1_235_814_400,
            "llama.block_count": 16,
            "llama.context_length": CONTEXT_LENGTH,
            "llama.embedding_length": 2048,
        },
        template="{{ .Prompt }}",
        parameters='stop                           "<|eot_id|>"',
        source=name,
    )


def show_fields(card: ModelCard) -> dict[str, Any]:
    """The body of POST /api/show for an installed model."""
    return {
        "license": card.license,
        "modelfile": f'# Modelfile generated by "ollama show"\nFROM {card.source}\n'
        f"TEMPLATE {_go_quote(card.template)}\n",
        "parameters": card.parameters,
        "template": card.template,
        "details": card.details,
        "model_info": card.model_info,
        "capabilities": ["completion"],
        "modified_at": rfc3339_local(card.modified_epoch),
    }


def _go_quote(text: str) -> str:
    """A Modelfile value: one line in double quotes, else triple quotes (as Ollama writes)."""
    return f'"""{text}"""' if "\n" in text or '"' in text else f'"{text}"'


def started_epoch() -> float:
    """A fixed 'modified_at' for the catalogue: one day before now."""
    return (datetime.now(UTC) - timedelta(days=1)).timestamp()


@dataclass(frozen=True, slots=True)
class Timings:
    """What the server reports for one generation, in integer nanoseconds.

    ``prompt_eval_count`` is the prompt tokens evaluated; ``prompt_cached`` the ones a slot's
    prompt cache already held (their sum is the whole prompt). ``other_ns`` is time spent
    outside the phases (a real engine's tokenizing and sampling), part of the total.
    """

    queue_ns: int
    load_ns: int
    prompt_eval_ns: int
    eval_ns: int
    prompt_eval_count: int
    eval_count: int
    prompt_cached: int = 0
    other_ns: int = 0

    @property
    def total_ns(self) -> int:
        return self.queue_ns + self.load_ns + self.prompt_eval_ns + self.eval_ns + self.other_ns

    @property
    def prompt_tokens(self) -> int:
        """The whole prompt, cached or not."""
        return self.prompt_eval_count + self.prompt_cached

    @classmethod
    def model(
        cls,
        *,
        queue_ns: int,
        load_ns: int,
        prefill_ms: float,
        token_interval_ms: float,
        prompt_eval_count: int,
        eval_count: int,
        prompt_cached: int = 0,
    ) -> Timings:
        return cls(
            queue_ns=queue_ns,
            load_ns=load_ns,
            prompt_eval_ns=round(prefill_ms * NS_PER_MS),
            eval_ns=round(token_interval_ms * NS_PER_MS * eval_count),
            prompt_eval_count=prompt_eval_count,
            eval_count=eval_count,
            prompt_cached=prompt_cached,
        )

    def ollama_fields(self) -> dict[str, int]:
        return {
            "total_duration": self.total_ns,
            "load_duration": self.load_ns,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": self.prompt_eval_ns,
            "eval_count": self.eval_count,
            "eval_duration": self.eval_ns,
        }

    def llamacpp_fields(self) -> dict[str, Any]:
        """llama-server's ``timings`` block (milliseconds; a rate over zero time is null)."""
        prompt_ms = self.prompt_eval_ns / NS_PER_MS
        predicted_ms = self.eval_ns / NS_PER_MS
        return {
            "cache_n": self.prompt_cached,
            "prompt_n": self.prompt_eval_count,
            "prompt_ms": prompt_ms,
            "prompt_per_token_ms": _ratio(prompt_ms, self.prompt_eval_count),
            "prompt_per_second": _ratio(1e3 * self.prompt_eval_count, prompt_ms),
            "predicted_n": self.eval_count,
            "predicted_ms": predicted_ms,
            "predicted_per_token_ms": _ratio(predicted_ms, self.eval_count),
            "predicted_per_second": _ratio(1e3 * self.eval_count, predicted_ms),
        }


def cached_share(total: int, common: int) -> tuple[int, int]:
    """(evaluated, cached) prompt tokens when a slot's cache holds ``common`` of ``total``.

    As in llama.cpp, a fully cached prompt still evaluates its last token (the logits of the
    next token come from it), so a non-empty prompt evaluates at least one.
    """
    cached = min(common, total - 1) if total > 0 else 0
    return total - cached, cached


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None
