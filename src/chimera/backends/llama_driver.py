"""Driving llama-cpp-python (in a worker thread): loading a model with its load time,
formatting a prompt as the model's chat template does, and one token loop (sampling,
end-of-generation, stop strings, the cap, cancellation) that the in-process backend and the
engine server's slots share."""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chimera.calls import GenerationRequest
from chimera.errors import ConfigError, InputFileError

MAKE_HINT = "make a test model with `chimera model tiny PATH`"
INSTALL_HINT = (
    "the llamacpp backend needs llama-cpp-python; install it with "
    "`pip install 'chimera-bench[llamacpp]'` (it compiles llama.cpp, about 5 minutes; "
    "CMAKE_ARGS=-DGGML_NATIVE=OFF makes the build portable)"
)


# One model load at a time in this process (see load_model).
_CONSTRUCT_LOCK = threading.Lock()


def import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return llama_cpp


def load_model(path: Path, load: dict[str, Any]) -> tuple[Any, int]:
    """Load the model (in a worker thread); return it and the wall time it took, ns."""
    llama_cpp = import_llama_cpp()
    try:
        # verbose=False makes llama-cpp-python point the process's stdout and stderr at
        # /dev/null while it loads; two loads at once could restore them in the wrong order.
        with _CONSTRUCT_LOCK:
            t0 = time.perf_counter_ns()
            llm = llama_cpp.Llama(str(path), verbose=False, **load)
            load_ns = time.perf_counter_ns() - t0
    except ValueError as exc:
        raise InputFileError(
            str(path),
            f"llama.cpp could not load it ({exc}); the file may be truncated or use an "
            f"architecture llama-cpp-python {llama_cpp.__version__} does not know. "
            f"Give another GGUF file, or {MAKE_HINT}",
        ) from None
    return llm, load_ns


def prompt_tokens(llm: Any, request: GenerationRequest) -> tuple[list[int], tuple[str, ...]]:
    """The prompt as tokens, and the stop strings the chat format adds."""
    if request.messages is None:
        prompt = request.prompt or ""
        text = f"{request.system}\n\n{prompt}" if request.system else prompt
        return list(llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)), ()
    messages: Any = [m.model_dump() for m in request.messages]
    formatted = _chat_formatter(llm)(messages=messages)
    tokens = llm.tokenize(
        formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
    )
    stop = formatted.stop or ()
    return list(tokens), (stop,) if isinstance(stop, str) else tuple(stop)


def _chat_formatter(llm: Any) -> Any:
    """The formatter llama-cpp-python's own chat handler would use for this model.

    ``Llama`` picks ``chat_format`` at load: a built-in format when the model's template is
    one it knows, ``chat_template.default`` for another template, ``llama-2`` without one.
    """
    from llama_cpp import llama_chat_format as cf

    builtin = {
        "chatml": cf.format_chatml,
        "mistral-instruct": cf.format_mistral_instruct,
        "llama-3": cf.format_llama3,
        "llama-2": cf.format_llama2,
    }
    template = llm.metadata.get("tokenizer.chat_template")
    if llm.chat_format in builtin or not template:
        return builtin.get(llm.chat_format, cf.format_llama2)
    vocab = _vocab(llm)
    return cf.Jinja2ChatFormatter(
        template=template,
        eos_token=_token_text(vocab, llm.token_eos()),
        bos_token=_token_text(vocab, llm.token_bos()),
        stop_token_ids=[llm.token_eos()],
    )


def _vocab(llm: Any) -> Any:
    import llama_cpp

    return llama_cpp.llama_model_get_vocab(llm.model)


def _token_text(vocab: Any, token: int) -> str:
    import llama_cpp

    if token < 0:
        return ""
    return bytes(llama_cpp.llama_vocab_get_text(vocab, token)).decode("utf-8", "replace")


class TextAssembler:
    """Turns token bytes into text that is safe to show: whole UTF-8 characters only, and
    nothing that might be the start of a stop string until it is known not to be one."""

    def __init__(self, stop: tuple[str, ...] = ()) -> None:
        self._stop = tuple(s for s in stop if s)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""

    def push(self, piece: bytes) -> tuple[str, bool]:
        """Add one token's bytes; return the text to emit and whether a stop string ended it."""
        held = self._held + self._decoder.decode(piece)
        hits = [i for i in (held.find(s) for s in self._stop) if i >= 0]
        if hits:
            self._held = ""
            return held[: min(hits)], True
        keep = max((_overlap(held, s) for s in self._stop), default=0)
        self._held = held[len(held) - keep :]
        return held[: len(held) - keep], False

    def flush(self) -> str:
        """Whatever is held back, at the end of a generation that did not hit a stop string."""
        rest = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return rest


def _overlap(text: str, stop: str) -> int:
    """Length of the longest end of ``text`` that is a proper start of ``stop``."""
    for k in range(min(len(text), len(stop) - 1), 0, -1):
        if text.endswith(stop[:k]):
            return k
    return 0


@dataclass(slots=True)
class Outcome:
    output_tokens: int
    done_reason: str
    prompt_tokens: int
    perf: tuple[float, float, int, int]  # t_p_eval_ms, t_eval_ms, n_p_eval, n_eval
    total_ns: int


def decode(
    llm: Any,
    tokens: list[int],
    sample: dict[str, Any],
    stop: tuple[str, ...],
    max_tokens: int,
    cancel: threading.Event,
    emit: Callable[[str], None],
) -> tuple[int, str]:
    """Sample up to ``max_tokens`` tokens after the prompt ``tokens``, emitting whole-character
    text as it comes (nothing that may start a stop string until it is known not to); returns
    the output tokens and the done reason: stop, length or cancelled."""
    import llama_cpp

    vocab = _vocab(llm)
    text = TextAssembler(stop)
    n_out, reason = 0, "length"
    gen = llm.generate(tokens, **sample)
    try:
        for token in gen:
            if cancel.is_set():
                reason = "cancelled"
                break
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                reason = "stop"
                break
            n_out += 1
            piece, stopped = text.push(llm.detokenize([token]))
            if piece:
                emit(piece)
            if stopped:
                reason = "stop"
                break
            if n_out >= max_tokens:
                break
    finally:
        gen.close()
    if reason != "stop" and (tail := text.flush()):
        emit(tail)
    return n_out, reason
