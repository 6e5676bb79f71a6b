"""Embedded llama.cpp: runs a GGUF file in-process and reports the engine's own timings.

``request.model`` is a bundled model (``smollm2``) or the path of a GGUF file (relative paths
also resolve against the directory given as the endpoint's ``url``). Load-time options
(``num_ctx``, ``num_gpu``, ...: ``LOAD_PARAMS``) are applied by ``load(model, options=...)``,
which reloads a file loaded with others; a call never reloads. A call runs on the model as it
is loaded (loading it on first use with the call's load-time options) and is refused if it
asks a load-time option the load did not apply. A model is kept until ``aclose``; calls on
one model run one at a time, as in a one-slot server, in a worker thread so the event loop
stays free.

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
import importlib.util
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
from chimera.backends.llama_driver import (
    INSTALL_HINT,
    Outcome,
    TextAssembler,
    decode,
    import_llama_cpp,
    load_model,
    prompt_tokens,
)
from chimera.backends.llama_options import (
    DEFAULT_N_CTX,
    LOAD_PARAMS,
    UNSUPPORTED,
    CallPlan,
    differing,
    json_grammar,
    plan_call,
)
from chimera.backends.metrics import ServerTimings, StreamClock, compute_metrics
from chimera.errors import (
    BackendError,
    ChimeraError,
    ConfigError,
    ModelNotFoundError,
)
from chimera.models.bundled import NoSuchModelError, resolve_gguf

# Re-exported: what other modules and tests take from the in-process backend.
__all__ = [
    "DEFAULT_N_CTX",
    "INSTALL_HINT",
    "LlamaCppBackend",
    "TextAssembler",
    "decode",
    "load_model",
    "plan_call",
    "prompt_tokens",
]
from chimera.options import InferenceOptions

URL = "llama.cpp (in-process)"
ENDPOINT = "in-process"


@dataclass(slots=True)
class _Loaded:
    path: Path
    load: dict[str, Any]  # the Llama() arguments it was loaded with
    llm: Any
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _timings(outcome: Outcome, load_ns: int | None) -> ServerTimings:
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


def _generate(
    llm: Any,
    request: GenerationRequest,
    plan: CallPlan,
    cancel: threading.Event,
    emit: Callable[[TextChunk], None],
) -> Outcome:
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
    return Outcome(n_out, reason, len(tokens), perf, time.perf_counter_ns() - t0)


class LlamaCppBackend:
    """Runs GGUF models in this process with llama-cpp-python."""

    kind: ClassVar[str] = "llamacpp"
    load_options: ClassVar[frozenset[str]] = frozenset(LOAD_PARAMS)
    refused_options: ClassVar[tuple[str, ...]] = UNSUPPORTED
    refused_hint: ClassVar[str] = (
        "llama-cpp-python does not apply them; remove them, or use the ollama backend"
    )

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
            self._llama_cpp = await asyncio.to_thread(import_llama_cpp)
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

    async def _model(self, path: Path, plan: CallPlan, *, load: bool) -> tuple[_Loaded, int | None]:
        """The loaded model for ``path`` and the load time if this made the load.

        ``load``: apply ``plan``'s load-time options, reloading a model loaded with others
        (``load()``). Otherwise (a call) the model is used as loaded, loaded now if it is not
        yet, and a load-time option the call asks differently is refused.
        """
        async with self._load_lock:
            entry = self._models.get(path)
            if entry is not None and not load:
                wrong = differing(entry.load, plan.asked)
                if wrong:
                    raise ConfigError(
                        f"{path.name} is loaded with other load-time options than this call "
                        f"asks: {', '.join(wrong)}; a call cannot change them. Load the model "
                        "with them first (backend.load(model, options=...)), as chimera's "
                        "sweeps, sessions and load runs do"
                    )
                return entry, None
            if entry is not None and entry.load == plan.load:
                return entry, None
            if entry is not None:  # new load-time options: reload, as Ollama does
                async with entry.lock:
                    entry.llm.close()
                del self._models[path]
            llm, load_ns = await asyncio.to_thread(load_model, path, plan.load)
            entry = _Loaded(path, plan.load, llm)
            self._models[path] = entry
            return entry, load_ns

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        await self._engine()  # a one-time import, not part of any call's time
        started_at = datetime.now(UTC)
        clock = StreamClock(time.perf_counter_ns())
        plan = plan_call(request.options)
        path = self.resolve(request.model)
        entry, load_ns = await self._model(path, plan, load=False)
        parts: list[str] = []
        async with entry.lock:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[TextChunk | None] = asyncio.Queue()
            cancel = threading.Event()

            def emit(chunk: TextChunk) -> None:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)

            def work() -> Outcome:
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
        metrics = compute_metrics(clock, _timings(outcome, load_ns), outcome.done_reason)
        t_p_eval_ms, t_eval_ms, n_p_eval, n_eval = outcome.perf
        # The engine's own rates: tokens it decoded over the time it spent decoding them
        # (the last sampled token is never decoded, so n_eval is output_tokens - 1).
        if n_eval > 0:
            metrics.decode_tokens_per_s = n_eval / (t_eval_ms / 1000.0)
        if n_p_eval > 0:
            metrics.prefill_tokens_per_s = n_p_eval / (t_p_eval_ms / 1000.0)
        result = CallResult(
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
        if outcome.done_reason != "cancelled":
            require_output(
                result,
                clock,
                request,
                URL,
                f"{path.name} produced no text ({outcome.output_tokens} tokens, done reason "
                f"{outcome.done_reason!r})",
                hint="The model ended its answer at once; try another seed or prompt.",
            )
        yield result

    async def load(
        self,
        model: str,
        keep_alive: str | float | None = None,
        options: InferenceOptions | None = None,
    ) -> CallResult:
        """Load ``model`` with the load-time options in ``options`` (the rest are ignored;
        unset ones take their defaults), reloading it if it was loaded with others;
        ``load_ms`` is the time that took.

        ``keep_alive`` is accepted for the protocol's sake: a model stays loaded until
        ``aclose``.
        """
        await self._engine()
        started_at = datetime.now(UTC)
        clock = StreamClock(time.perf_counter_ns())
        path = self.resolve(model)
        options = options or InferenceOptions()
        plan = plan_call(options)
        _, load_ns = await self._model(path, plan, load=True)
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
            options={k: v for k, v in options.set_options().items() if k in LOAD_PARAMS},
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
