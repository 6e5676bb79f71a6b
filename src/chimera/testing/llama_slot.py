"""The worker-thread side of the llama.cpp engine: one slot's model, and one run on it.

Each slot is its own ``llama_cpp.Llama`` (its own context and KV cache). A run never calls
``reset()``: ``Llama.generate`` keeps the longest common prefix of what the slot's cache
holds and evaluates only the rest, which is the prompt cache Ollama's runner and
llama-server keep per slot. How many prompt tokens it evaluated, and how long that took, is
read at the end of the first ``eval`` call of the run: that call is the prompt's (an empty
one when the whole prompt was cached), every later one decodes a sampled token.
Formatting and tokenizing reuse the in-process backend's functions, so a chat is laid out
with the model's own template exactly as ``chimera``'s llamacpp backend lays it out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chimera.backends.llama_driver import decode, load_model, prompt_tokens
from chimera.calls import ChatMessage, GenerationRequest
from chimera.testing.generation import Prompt

NS_PER_MS = 1_000_000
ROLES = ("system", "user", "assistant")  # what the chat formatting takes


@dataclass(frozen=True, slots=True)
class Job:
    """One generation, ready to run: the prompt's tokens and how to sample and stop."""

    tokens: list[int]
    stop: tuple[str, ...]
    sample: dict[str, Any]  # Llama.generate() arguments
    seed: int | None
    repeat_last_n: int | None
    max_tokens: int  # already within the context's room
    n_ctx: int  # the context the slot must have (a new one reloads it)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run did, measured by llama.cpp's perf counters and the wall clock."""

    output_tokens: int
    done_reason: str
    prompt_evaluated: int  # prompt tokens evaluated; the rest came from the cache
    prompt_ns: int
    eval_ns: int
    load_ns: int  # a load to report: the slot's first use, or a reload for a new context
    busy_ns: int  # wall time of the run, any reload excluded


def load_llama(path: Path, n_ctx: int, threads: int) -> tuple[Any, int]:
    """A ``Llama`` for ``path`` and its load time in ns (in a worker thread)."""
    # n_threads_batch too: llama-cpp-python would use every core for prompts by default
    load = {"n_ctx": n_ctx, "n_threads": threads, "n_threads_batch": threads}
    llm, load_ns = load_model(path, load)
    return llm, load_ns


def encode(llm: Any, prompt: Prompt) -> tuple[list[int], tuple[str, ...]]:
    """The prompt's tokens and the stop strings its chat format adds.

    Chat messages, and Ollama's /api/generate unless ``raw``, go through the model's chat
    template (a generate prompt as one user turn after its system prompt); raw prompts and
    OpenAI legacy completions are tokenized as sent. Raises ValueError for an unknown role.
    """
    request: GenerationRequest
    if prompt.messages is not None:
        unknown = sorted({r for r, _ in prompt.messages} - set(ROLES))
        if unknown:
            raise ValueError(f"message role {unknown[0]!r} is not one of {', '.join(ROLES)}")
        turns = tuple(
            ChatMessage.model_validate({"role": r, "content": c}) for r, c in prompt.messages
        )
        request = GenerationRequest(model="engine", messages=turns)
    elif prompt.raw:
        request = GenerationRequest(model="engine", prompt=prompt.text or "")
    else:
        turns = (ChatMessage(role="user", content=prompt.text or ""),)
        if prompt.system:
            turns = (ChatMessage(role="system", content=prompt.system), *turns)
        request = GenerationRequest(model="engine", messages=turns)
    return prompt_tokens(llm, request)


def _perf_ms(llm: Any) -> float:
    """Milliseconds llama.cpp spent evaluating since the last reset (prompt and decode)."""
    import llama_cpp

    llama_cpp.llama_synchronize(llm.ctx)  # the counters are updated when work completes
    p = llama_cpp.llama_perf_context(llm.ctx)
    return float(p.t_p_eval_ms) + float(p.t_eval_ms)


class LlamaSlot:
    """One slot: a ``Llama`` used by one run at a time, in a worker thread."""

    def __init__(self, index: int, path: Path, n_ctx: int, threads: int) -> None:
        self.index = index
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self.llm: Any = None
        self._unreported_load_ns = 0
        self._prompt_phase = False
        self._prompt_evaluated = 0
        self._prompt_ms = 0.0

    def load(self) -> None:
        self.llm, self._unreported_load_ns = load_llama(self.path, self.n_ctx, self.threads)
        original = self.llm.eval

        def eval_and_mark(tokens: Sequence[int]) -> None:
            original(tokens)
            if self._prompt_phase:
                self._prompt_phase = False
                self._prompt_evaluated = len(tokens)
                self._prompt_ms = _perf_ms(self.llm)

        # An instance attribute: generate() calls self.eval, so this sees each of its calls.
        self.llm.eval = eval_and_mark

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None

    def cached_tokens(self) -> list[int]:
        """What the slot's KV cache holds now."""
        return [int(t) for t in self.llm.input_ids[: self.llm.n_tokens]]

    def run(self, job: Job, emit: Callable[[str], None], cancel: threading.Event) -> Outcome:
        """Generate ``job`` on this slot, emitting text as tokens come (in a worker thread)."""
        import llama_cpp

        if job.n_ctx != self.n_ctx:  # a new context length reloads, as Ollama does
            self.close()
            self.n_ctx = job.n_ctx
            self.load()
        load_ns, self._unreported_load_ns = self._unreported_load_ns, 0
        started = time.perf_counter_ns()
        llm = self.llm
        llama_cpp.llama_perf_context_reset(llm.ctx)
        llm.set_seed(llama_cpp.LLAMA_DEFAULT_SEED if job.seed is None else job.seed)
        llm.last_n_tokens_size = 64 if job.repeat_last_n is None else job.repeat_last_n
        self._prompt_phase, self._prompt_evaluated, self._prompt_ms = True, 0, 0.0
        n_out, reason = decode(llm, job.tokens, job.sample, job.stop, job.max_tokens, cancel, emit)
        total_ms = _perf_ms(llm)
        return Outcome(
            output_tokens=n_out,
            done_reason=reason,
            prompt_evaluated=self._prompt_evaluated,
            prompt_ns=round(self._prompt_ms * NS_PER_MS),
            eval_ns=round((total_ms - self._prompt_ms) * NS_PER_MS),
            load_ns=load_ns,
            busy_ns=time.perf_counter_ns() - started,
        )
