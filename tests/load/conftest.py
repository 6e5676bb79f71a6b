"""Helpers for the load tests: a spec with small defaults and one call to run it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from chimera.backends.base import EndpointSettings, create_backend
from chimera.load.prompts import Prompts
from chimera.load.records import LevelRun
from chimera.load.runner import LevelRunner
from chimera.load.spec import LoadLevel, LoadSpec
from chimera.options import InferenceOptions


def spec(level: LoadLevel, **fields: Any) -> LoadSpec:
    fields.setdefault("requests", 12)
    return LoadSpec(levels=(level,), input_tokens=20, output_tokens=8, **fields)


def prompts(load: LoadSpec, nonce: str | None = "t35t", model: str = "tiny:latest") -> Prompts:
    options = InferenceOptions(num_predict=load.output_tokens)
    return Prompts(model, options, input_tokens=load.input_tokens, nonce=nonce)


async def run_level(
    url: str, load: LoadSpec, kind: str = "ollama", model: str = "tiny:latest", **settings: Any
) -> LevelRun:
    endpoint = EndpointSettings(kind=kind, url=url, **settings)
    async with create_backend(endpoint) as backend:
        runner = LevelRunner(backend, prompts(load, model=model), load, load.levels[0])
        return await runner.execute()


async def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll ``condition`` (a test server's counters have no event to wait on)."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
