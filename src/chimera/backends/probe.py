"""Probe servers: reachable, version, installed and loaded models, and one short test call."""

from __future__ import annotations

import asyncio
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from chimera.backends.base import (
    CallMetrics,
    ChatMessage,
    EndpointSettings,
    GenerationRequest,
    ModelInfo,
    create_backend,
    generate,
)
from chimera.backends.http import normalize_url
from chimera.errors import BackendError, ChimeraError
from chimera.options import InferenceOptions

ProbeKind = Literal["auto", "ollama", "openai"]
TEST_PROMPT = "Say hello in five words."


class TestCall(BaseModel):
    """The short generation a probe makes, with its metrics."""

    model_config = ConfigDict(extra="forbid")
    __test__ = False  # not a pytest class

    model: str
    text: str
    metrics: CallMetrics


class ProbeResult(BaseModel):
    """What one server said; ``error`` holds the one-line reason when something failed."""

    model_config = ConfigDict(extra="forbid")

    url: str
    kind: str | None
    reachable: bool
    version: str | None = None
    models: list[ModelInfo] = Field(default_factory=list)
    loaded: list[ModelInfo] | None = None
    test_call: TestCall | None = None
    error: str | None = None


async def detect_kind(url: str, timeout_s: float = 5.0) -> str | None:
    """``ollama`` if /api/version answers, ``openai`` if /v1/models does; None if neither."""
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, trust_env=False) as client:
        for kind, path in (("ollama", "/api/version"), ("openai", "/v1/models")):
            try:
                resp = await client.get(path)
            except httpx.HTTPError:
                return None
            if resp.status_code < 400 and resp.headers.get("content-type", "").startswith(
                "application/json"
            ):
                return kind
    return None


async def probe_server(
    url: str,
    kind: ProbeKind = "auto",
    *,
    model: str | None = None,
    prompt: str = TEST_PROMPT,
    num_predict: int = 16,
    settings: EndpointSettings | None = None,
    test_call: bool = True,
) -> ProbeResult:
    """Probe one server; never raises for server trouble: it is reported in ``error``."""
    base = normalize_url(url, 11434 if kind != "openai" else 8000)
    if kind == "auto":
        detected = await detect_kind(base)
        if detected is None:
            return ProbeResult(
                url=base,
                kind=None,
                reachable=False,
                error=f"cannot reach an Ollama or OpenAI-compatible server at {base}. Is it "
                "running? Start Ollama with `ollama serve`, or pass the right URL.",
            )
        kind = "ollama" if detected == "ollama" else "openai"
    settings = (settings or EndpointSettings()).model_copy(update={"kind": kind, "url": base})
    result = ProbeResult(url=base, kind=kind, reachable=False)
    try:
        async with create_backend(settings) as backend:
            info = await backend.server_info()
            result.reachable = True
            result.version, result.models, result.loaded = info.version, info.models, info.loaded
            if not test_call:
                return result
            name = model or (info.models[0].name if info.models else None)
            if name is None:
                result.error = "the server has no models installed; pull one (`ollama pull NAME`)"
                return result
            # A chat message: instruction-tuned models may end a raw completion of an
            # instruction at once, and then the probe would report an empty answer.
            request = GenerationRequest(
                model=name,
                messages=(ChatMessage(role="user", content=prompt),),
                options=InferenceOptions(num_predict=num_predict),
            )
            call = await generate(backend, request)
            result.test_call = TestCall(model=name, text=call.text, metrics=call.metrics)
    except BackendError as exc:
        result.error = str(exc)
    except ChimeraError as exc:
        result.error = str(exc)
    return result


async def probe_all(
    urls: list[str],
    kind: ProbeKind = "auto",
    *,
    model: str | None = None,
    prompt: str = TEST_PROMPT,
    num_predict: int = 16,
    settings: EndpointSettings | None = None,
    test_call: bool = True,
) -> list[ProbeResult]:
    """Probe several servers at once."""
    return list(
        await asyncio.gather(
            *(
                probe_server(
                    u,
                    kind,
                    model=model,
                    prompt=prompt,
                    num_predict=num_predict,
                    settings=settings,
                    test_call=test_call,
                )
                for u in urls
            )
        )
    )
