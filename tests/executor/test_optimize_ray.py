"""``chimera optimize`` over a pool: trials in rounds, one per server, here or on Ray."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chimera.app.optimize import run_optimize
from chimera.backends.base import EndpointSettings
from chimera.bench.grid import parse_dimension
from chimera.bench.optimize import OptimizeSettings
from chimera.executor import Endpoint, ExecutorSettings
from chimera.options import InferenceOptions
from chimera.store import Store
from chimera.store.queries import table_rows
from chimera.testing import ServerThread

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def settings(tmp_path: Path, urls: list[str], **over: Any) -> OptimizeSettings:
    values: dict[str, Any] = {
        "space": (parse_dimension("num_ctx", "256,512,1024,2048"),),
        "options": InferenceOptions(num_predict=8),
        "trials": 4,
        "runs": 2,
        "warmup": 1,
        "model": "tiny:latest",
        "endpoint": EndpointSettings(kind="ollama"),
        "endpoints": [Endpoint(url=u) for u in urls],
        "db": tmp_path / "runs.db",
    }
    values.update(over)
    return OptimizeSettings.model_validate(values)


@pytest.mark.parametrize("executor", ["local", "ray"])
async def test_trials_go_in_rounds_one_per_server(
    tmp_path: Path,
    two_servers: tuple[ServerThread, ServerThread],
    executor: str,
    request: pytest.FixtureRequest,
) -> None:
    if executor == "ray":
        request.getfixturevalue("ray_local")
    urls = [s.url for s in two_servers]
    runs_on = ExecutorSettings.model_validate({"kind": executor})
    result = await run_optimize(settings(tmp_path, urls, executor=runs_on))
    assert result.status == "ok" and len(result.trials) == 4
    assert [t.number for t in result.trials] == [0, 1, 2, 3]
    assert all(t.state == "complete" and t.runs_ok == 2 for t in result.trials)
    assert [t.endpoint for t in result.trials] == urls + urls  # round by round
    assert all(s.max_in_flight == 1 for s in two_servers)  # one trial at a time on each
    with Store(tmp_path / "runs.db") as store:
        trials = table_rows(store, "trials", run_id=result.run_id or "")
        calls = table_rows(store, "calls", run_id=result.run_id or "")
    assert len(trials) == 4 and len(calls) == 4 * (2 + 1)
