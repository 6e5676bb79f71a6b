"""Embedded llama.cpp: runs a GGUF file in-process and reports the engine's own timings.

``request.model`` is a bundled model (``smollm2``) or the path of a GGUF file (relative paths
also resolve against the directory given as the endpoint's ``url``). Each (file, load-time
options) pair is loaded once and kept until ``aclose``; calls on one model run one at a time,
as in a one-slot server, in a worker thread so the event loop stays free.

Generation is driven token by token through ``Llama.generate`` rather than
``create_completion(stream=True)``: that gives one chunk per token, stamped when the token
is ready, and an exact output-token count, which the library's stream does not report.
Chat messages are formatted exactly as llama-cpp-python's own chat handler (and so
``llama_cpp.server``) formats them: the model's chat template, or the ``llama-2`` fallback.
Each call evaluates its whole prompt (no prefix reuse), so ``prompt_eval_ms`` is comparable
between calls. Timings come from llama.cpp's perf counters, reset before every call.
"""

from __future__ import annotations

import asyncio
import codecs
import importlib.util
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from chimera.backends.base import (
    CallResult,
    EndpointSettings,
    GenerationRequest,
    ModelInfo,
    ServerInfo,
    StreamEvent,
    TextChunk,
    require_output,
)
from chimera.backends.metrics import ServerTimings, StreamClock, compute_metrics
from chimera.errors import (
    BackendError,
    ChimeraError,
    ConfigError,
    InputFileError,
    ModelNotFoundError,
)
from chimera.models.bundled import NoSuchModelError, resolve_gguf
from chimera.options import InferenceOptions

URL = "llama.cpp (in-process)"
ENDPOINT = "in-process"
INSTALL_HINT = (
    "the llamacpp backend needs llama-cpp-python; install it with "
    "`pip install 'chimera-bench[llamacpp]'` (it compiles llama.cpp, about 5 minutes; "
    "CMAKE_ARGS=-DGGML_NATIVE=OFF makes the build portable)"
)
MAKE_HINT = "make a test model with `chimera model tiny PATH`"
# Ollama's long-standing default; llama.cpp's own (the model's training context) can be
# 128k tokens for current models, far more KV cache than a benchmark wants by surprise.
DEFAULT_N_CTX = 2048
# One model load at a time in this process (see load_model).
_CONSTRUCT_LOCK = threading.Lock()

# Options fixed when the model is loaded -> Llama() arguments. A new value reloads the model.
LOAD_PARAMS = {
    "num_ctx": "n_ctx",
    "num_gpu": "n_gpu_layers",
    "num_thread": "n_threads",
    "num_batch": "n_batch",
    "main_gpu": "main_gpu",
    "use_mmap": "use_mmap",
    "use_mlock": "use_mlock",
    "numa": "numa",
}
# Sampling options -> Llama.generate() arguments; unset ones keep generate()'s defaults.
SAMPLE_PARAMS = {
    "temperature": "temp",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repeat_penalty": "repeat_penalty",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "mirostat": "mirostat_mode",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
}
# Handled one by one below: max tokens, seed, stop strings and the repeat-penalty window.
OTHER_PARAMS = ("num_predict", "seed", "stop", "repeat_last_n")
# Accepted by Ollama but not applied by llama-cpp-python 0.3.36; refused rather than ignored.
UNSUPPORTED = ("low_vram", "num_keep", "tfs_z", "penalize_newline")


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What one request's options mean for llama-cpp-python."""

    load: dict[str, Any]
    sample: dict[str, Any]
    max_tokens: int | None  # None = until the context is full
    seed: int | None
    stop: tuple[str, ...]
    repeat_last_n: int | None

    @property
    def load_key(self) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted(self.load.items()))


def plan_call(options: InferenceOptions) -> CallPlan:
    """Map Ollama-style options onto llama-cpp-python's load and sampling arguments."""
    set_ = options.set_options()
    refused = [name for name in UNSUPPORTED if name in set_]
    if refused:
        raise ConfigError(
            f"the llamacpp backend cannot apply {', '.join(refused)} (llama-cpp-python does "
            "not support them); remove them from the options"
        )
    load = {LOAD_PARAMS[k]: v for k, v in set_.items() if k in LOAD_PARAMS}
    load.setdefault("n_ctx", DEFAULT_N_CTX)
    if "n_threads" in load:
        # As Ollama's num_thread does: the prompt is read on the same threads. Without this,
        # llama-cpp-python reads prompts on every core whatever n_threads says.
        load["n_threads_batch"] = load["n_threads"]
    num_predict = options.num_predict
    return CallPlan(
        load=load,
        sample={SAMPLE_PARAMS[k]: v for k, v in set_.items() if k in SAMPLE_PARAMS},
        max_tokens=None if num_predict is None or num_predict < 0 else num_predict,
        seed=options.seed,
        stop=tuple(s for s in options.stop or () if s),
        repeat_last_n=options.repeat_last_n,
    )


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
class _Outcome:
    output_tokens: int
    done_reason: str
    prompt_tokens: int
    perf: tuple[float, float, int, int]  # t_p_eval_ms, t_eval_ms, n_p_eval, n_eval
    total_ns: int


@dataclass(slots=True)
class _Loaded:
    path: Path
    key: tuple[tuple[str, Any], ...]
    llm: Any
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return llama_cpp


def load_model(path: Path, load: dict[str, Any]) -> tuple[Any, int]:
    """Load the model (in a worker thread); return it and the wall time it took, ns."""
    llama_cpp = _import_llama_cpp()
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


def _generate(
    llm: Any,
    request: GenerationRequest,
    plan: CallPlan,
    cancel: threading.Event,
    emit: Callable[[TextChunk], None],
) -> _Outcome:
    """Run one generation on ``llm`` (in a worker thread), emitting chunks as tokens come."""
    import llama_cpp

    t0 = time.perf_counter_ns()
    tokens, chat_stop = prompt_tokens(llm, request)
    # llama.cpp pads the context it allocates (to 256); the Python side holds what was asked.
    n_ctx = min(llm.n_ctx(), len(llm.input_ids))
    if len(tokens) >= n_ctx:
        raise ConfigError(
            f"the prompt is {len(tokens)} tokens but the context (num_ctx) holds {n_ctx}; "
            "raise num_ctx or shorten the prompt"
        )
    room = n_ctx - len(tokens)
    max_tokens = room if plan.max_tokens is None else min(plan.max_tokens, room)
    llm.reset()  # no prefix reuse: every call evaluates its whole prompt
    llama_cpp.llama_perf_context_reset(llm.ctx)
    llm.set_seed(llama_cpp.LLAMA_DEFAULT_SEED if plan.seed is None else plan.seed)
    llm.last_n_tokens_size = 64 if plan.repeat_last_n is None else plan.repeat_last_n
    n_out, reason = 0, "length"
    if max_tokens == 0:
        llm.eval(tokens)
    else:
        sample = dict(plan.sample)
        if request.json_schema is not None:
            sample["grammar"] = json_grammar(request.json_schema)
        n_out, reason = decode(
            llm,
            tokens,
            sample,
            plan.stop + chat_stop,
            max_tokens,
            cancel,
            lambda piece: emit(TextChunk(piece, time.perf_counter_ns())),
        )
    llama_cpp.llama_synchronize(llm.ctx)  # perf counters are updated when work completes
    p = llama_cpp.llama_perf_context(llm.ctx)
    # llama.cpp reports each count as at least 1 (to spare callers a division by zero), so a
    # phase that never ran shows as 1 token in 0 ms: its time says whether it happened.
    t_p_eval_ms, t_eval_ms = float(p.t_p_eval_ms), float(p.t_eval_ms)
    n_p_eval = int(p.n_p_eval) if t_p_eval_ms > 0 else 0
    n_eval = int(p.n_eval) if t_eval_ms > 0 else 0
    perf = (t_p_eval_ms, t_eval_ms, n_p_eval, n_eval)
    return _Outcome(n_out, reason, len(tokens), perf, time.perf_counter_ns() - t0)


def json_grammar(schema: dict[str, Any]) -> Any:
    """The GBNF grammar that holds sampling to ``schema`` (llama-cpp-python's converter)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"llama.cpp cannot turn the JSON schema into a grammar: {exc}") from None


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


def _timings(outcome: _Outcome, load_ns: int | None) -> ServerTimings:
    """The engine's figures for one call; a phase that did not run stays None."""
    t_p_eval_ms, t_eval_ms, n_p_eval, n_eval = outcome.perf
    return ServerTimings(
        load_ns=load_ns,
        prompt_eval_ns=round(t_p_eval_ms * 1e6) if n_p_eval > 0 else None,
        eval_ns=round(t_eval_ms * 1e6) if n_eval > 0 else None,
        total_ns=outcome.total_ns + (load_ns or 0),
        prompt_tokens=outcome.prompt_tokens,
        output_tokens=outcome.output_tokens,
    )


class LlamaCppBackend:
    """Runs GGUF models in this process with llama-cpp-python."""

    kind: ClassVar[str] = "llamacpp"

    def __init__(self, settings: EndpointSettings) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(INSTALL_HINT)
        self.settings = settings
        raw = (settings.url or "").removeprefix("file://")
        # An optional url names a GGUF file or a directory of them: what server_info lists.
        self._where = Path(raw).expanduser() if raw else None
        self._models: dict[Path, _Loaded] = {}
        self._load_lock = asyncio.Lock()
        self._llama_cpp: Any = None

    async def _engine(self) -> Any:
        """The llama_cpp module, imported off the event loop (it loads a shared library)."""
        if self._llama_cpp is None:
            self._llama_cpp = await asyncio.to_thread(_import_llama_cpp)
        return self._llama_cpp

    @property
    def url(self) -> str:
        return URL

    async def __aenter__(self) -> LlamaCppBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Free every loaded model, after the calls running on it finish."""
        async with self._load_lock:
            for entry in self._models.values():
                async with entry.lock:
                    entry.llm.close()
            self._models.clear()

    def resolve(self, model: str) -> Path:
        """The GGUF file ``model`` names (a path, or a bundled model such as ``smollm2``);
        checks it exists and looks like GGUF."""
        where = self._where if self._where is not None and self._where.is_dir() else None
        try:
            return resolve_gguf(model, search_dir=where)
        except NoSuchModelError as exc:
            what = str(exc)
            raise ModelNotFoundError(model, URL, hint=f"{what[:1].upper()}{what[1:]}.") from None

    async def _model(self, path: Path, plan: CallPlan) -> tuple[_Loaded, int | None]:
        """The loaded model for (path, load options) and the load time if this call loaded it."""
        async with self._load_lock:
            entry = self._models.get(path)
            if entry is not None and entry.key == plan.load_key:
                return entry, None
            if entry is not None:  # new load-time options: reload, as Ollama does
                async with entry.lock:
                    entry.llm.close()
                del self._models[path]
            llm, load_ns = await asyncio.to_thread(load_model, path, plan.load)
            entry = _Loaded(path, plan.load_key, llm)
            self._models[path] = entry
            return entry, load_ns

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        await self._engine()  # a one-time import, not part of any call's time
        started_at = datetime.now(UTC)
        clock = StreamClock(time.perf_counter_ns())
        plan = plan_call(request.options)
        path = self.resolve(request.model)
        entry, load_ns = await self._model(path, plan)
        parts: list[str] = []
        async with entry.lock:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[TextChunk | None] = asyncio.Queue()
            cancel = threading.Event()

            def emit(chunk: TextChunk) -> None:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)

            def work() -> _Outcome:
                try:
                    return _generate(entry.llm, request, plan, cancel, emit)
                finally:
                    loop.call_soon_threadsafe(queue.put_nowait, None)

            job = asyncio.ensure_future(asyncio.to_thread(work))
            try:
                while (chunk := await queue.get()) is not None:
                    clock.chunk_ns.append(chunk.t_ns)
                    parts.append(chunk.text)
                    yield chunk
                outcome = await job
            except ChimeraError:
                raise
            except Exception as exc:
                raise BackendError(
                    f"llama.cpp failed while generating from {path}: {exc}", url=URL
                ) from exc
            finally:
                if not job.done():  # the caller stopped early: stop the worker before unlocking
                    cancel.set()
                    await asyncio.wait([job])
        clock.end_ns = time.perf_counter_ns()
        if outcome.done_reason != "cancelled":
            require_output(
                "".join(parts),
                request,
                URL,
                f"{path.name} produced no text ({outcome.output_tokens} tokens, done reason "
                f"{outcome.done_reason!r})",
                hint="The model ended its answer at once; try another seed or prompt.",
            )
        metrics = compute_metrics(clock, _timings(outcome, load_ns), outcome.done_reason)
        t_p_eval_ms, t_eval_ms, n_p_eval, n_eval = outcome.perf
        # The engine's own rates: tokens it decoded over the time it spent decoding them
        # (the last sampled token is never decoded, so n_eval is output_tokens - 1).
        if n_eval > 0:
            metrics.decode_tokens_per_s = n_eval / (t_eval_ms / 1000.0)
        if n_p_eval > 0:
            metrics.prefill_tokens_per_s = n_p_eval / (t_p_eval_ms / 1000.0)
        yield CallResult(
            backend=self.kind,
            url=URL,
            model=str(path),
            endpoint=ENDPOINT,
            text="".join(parts),
            done_reason=outcome.done_reason,
            metrics=metrics,
            started_at=started_at,
            options=request.options.set_options(),
        )

    async def load(self, model: str, keep_alive: str | float | None = None) -> CallResult:
        """Load ``model`` with default load options; ``load_ms`` is the time that took.

        ``keep_alive`` is accepted for the protocol's sake: a model stays loaded until
        ``aclose``.
        """
        await self._engine()
        started_at = datetime.now(UTC)
        clock = StreamClock(time.perf_counter_ns())
        path = self.resolve(model)
        _, load_ns = await self._model(path, plan_call(InferenceOptions()))
        clock.end_ns = time.perf_counter_ns()
        # Already loaded: the time this call spent making sure of it, measured all the same.
        spent = load_ns if load_ns is not None else clock.end_ns - clock.start_ns
        metrics = compute_metrics(clock, ServerTimings(load_ns=spent, total_ns=spent), "load")
        return CallResult(
            backend=self.kind,
            url=URL,
            model=str(path),
            endpoint=ENDPOINT,
            text="",
            done_reason="load",
            metrics=metrics,
            started_at=started_at,
        )

    async def server_info(self) -> ServerInfo:
        """The GGUF files under the endpoint's url (if given) and the models loaded now."""
        llama_cpp = await self._engine()
        files: list[Path] = []
        if self._where is not None and self._where.is_dir():
            files = sorted(self._where.glob("*.gguf"))
        elif self._where is not None and self._where.is_file():
            files = [self._where]
        loaded = [_loaded_info(e) for e in self._models.values()]
        known = {m.name for m in loaded}
        models = [
            ModelInfo(name=str(f.resolve()), size_bytes=f.stat().st_size)
            for f in files
            if str(f.resolve()) not in known
        ]
        return ServerInfo(
            url=URL,
            kind=self.kind,
            version=f"llama-cpp-python {llama_cpp.__version__}",
            models=loaded + models,
            loaded=loaded,
        )


def _loaded_info(entry: _Loaded) -> ModelInfo:
    import llama_cpp

    params = int(llama_cpp.llama_model_n_params(entry.llm.model))
    return ModelInfo(
        name=str(entry.path),
        size_bytes=entry.path.stat().st_size,
        parameter_size=_human(params),
        family=entry.llm.metadata.get("general.architecture"),
    )


def _human(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)
