"""A backend whose speed is a known function of the options, for testing sweeps and searches.

It implements the Backend protocol without a server or a model: each call's figures come from
a speed model (options -> decode tokens/s and TTFT), times a seeded random noise, so a test
knows which configuration is fastest and by how much. Nothing sleeps; the timestamps are
invented to match the figures. Changing a load-time option reports a model load, as Ollama
and llama.cpp reload the model for a new ``num_ctx`` or ``num_gpu``.

Not registered as a backend kind; tests pass an instance, or register it for CLI tests with
``register_backend("synthetic", "chimera.testing.synthetic:SyntheticBackend")``.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import ClassVar

from chimera.backends.base import EndpointSettings, StreamEvent
from chimera.calls import CallMetrics, CallResult, GenerationRequest, ServerInfo, TextChunk
from chimera.errors import BackendError
from chimera.options import InferenceOptions

URL = "synthetic://"
LOAD_OPTIONS = ("num_ctx", "num_gpu", "num_thread", "num_batch")
FULL_OFFLOAD_LAYERS = 33

SpeedModel = Callable[[InferenceOptions], tuple[float, float]]
FailureModel = Callable[[InferenceOptions], str | None]


def default_speed(options: InferenceOptions) -> tuple[float, float]:
    """(decode tokens/s, TTFT ms): faster with more GPU layers (up to 33), slower with context.

    decode = (40 + 3 * min(num_gpu, 33)) * (1 - num_ctx / 65536)
    ttft   = 30 + num_ctx / 20 + 4 * (33 - min(num_gpu, 33))
    with num_gpu 0 and num_ctx 2048 when unset.
    """
    gpu = min(max(options.num_gpu or 0, 0), FULL_OFFLOAD_LAYERS)
    ctx = options.num_ctx or 2048
    decode = (40.0 + 3.0 * gpu) * (1.0 - ctx / 65536)
    ttft = 30.0 + ctx / 20 + 4.0 * (FULL_OFFLOAD_LAYERS - gpu)
    return decode, ttft


class SyntheticBackend:
    """Answers every request at once with figures from ``speed`` (x noise)."""

    kind: ClassVar[str] = "synthetic"
    load_options: ClassVar[frozenset[str]] = frozenset()  # as Ollama: taken on each call

    def __init__(
        self,
        settings: EndpointSettings | None = None,
        *,
        speed: SpeedModel = default_speed,
        noise: float = 0.03,
        seed: int = 0,
        fail: FailureModel | None = None,
        load_ms: float = 800.0,
    ) -> None:
        self.settings = settings or EndpointSettings(kind="synthetic")
        self.speed = speed
        self.noise = noise
        self.fail = fail
        self.load_ms = load_ms
        self.requests: list[GenerationRequest] = []
        self._rng = random.Random(seed)
        self._loaded: tuple[object, ...] | None = None

    @property
    def url(self) -> str:
        return URL

    async def __aenter__(self) -> SyntheticBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._loaded = None

    def _jitter(self) -> float:
        return max(0.05, self._rng.gauss(1.0, self.noise)) if self.noise > 0 else 1.0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        options = request.options
        if self.fail is not None and (reason := self.fail(options)) is not None:
            raise BackendError(f"{URL}: {reason}", url=URL)
        decode, ttft = self.speed(options)
        decode, ttft = decode * self._jitter(), ttft * self._jitter()
        key = tuple(getattr(options, name) for name in LOAD_OPTIONS)
        load = None
        if key != self._loaded:
            self._loaded = key
            load = self.load_ms
        tokens = options.num_predict if options.num_predict and options.num_predict > 0 else 128
        eval_ms = tokens / decode * 1000.0
        first = (load or 0.0) + ttft
        start = time.perf_counter_ns()
        step = eval_ms / max(tokens - 1, 1)
        for i in range(tokens):
            yield TextChunk("x ", start + round((first + i * step) * 1e6))
        metrics = CallMetrics(
            ttft_ms=first,
            e2e_ms=first + eval_ms,
            load_ms=load,
            prompt_eval_ms=ttft,
            eval_ms=eval_ms,
            prompt_tokens=len(request.input_text.split()) or 1,
            output_tokens=tokens,
            decode_tokens_per_s=tokens / (eval_ms / 1000.0),
            done_reason="length",
            chunks=tokens,
        )
        yield CallResult(
            backend=self.kind,
            url=URL,
            model=request.model,
            endpoint="synthetic",
            text="x " * tokens,
            done_reason="length",
            metrics=metrics,
            started_at=datetime.now(UTC),
            options=options.set_options(),
        )

    async def load(
        self,
        model: str,
        keep_alive: str | float | None = None,
        options: InferenceOptions | None = None,
    ) -> CallResult:
        self._loaded = None
        return CallResult(
            backend=self.kind,
            url=URL,
            model=model,
            endpoint="synthetic",
            text="",
            done_reason="load",
            metrics=CallMetrics(load_ms=self.load_ms, done_reason="load"),
            started_at=datetime.now(UTC),
        )

    async def server_info(self) -> ServerInfo:
        return ServerInfo(url=URL, kind=self.kind, version="synthetic", loaded=[])
