"""A short soak (benchmarks/soak.py at 200 requests): every request accounted for, none lost,
the server's failures counted as they were, nothing left behind (tasks, sockets, threads),
and a stalled or dripping stream failed by the idle timeout, not before it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chimera_soak_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_short_soak_loses_nothing_and_leaves_nothing(tmp_path: Path) -> None:
    soak = _soak_module()
    r = soak.soak(200, 32, tmp_path / "load")
    assert r.exit_code == 0
    assert r.sent == r.requests == 200
    assert r.ok + r.failed == r.sent and r.cancelled == 0 and r.lost == 0
    assert r.failed_by_type == {"http_500": r.failed_expected} and r.failed_expected == 10
    assert r.store_rows == 200
    # nothing left behind by the run: its tasks ended, its connections closed
    assert r.end.asyncio_tasks == r.start.asyncio_tasks
    assert r.end.sockets == r.start.sockets
    assert r.end.threads == r.start.threads


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault", ["stall", "drip", "keepalive"])
def test_a_stalled_stream_is_failed_by_the_idle_timeout(tmp_path: Path, fault: str) -> None:
    soak = _soak_module()
    st = soak.stall_detection(fault, 0.5, tmp_path)
    assert st.error_type == "idle_timeout"
    assert st.detected_after_last_token_s is not None
    assert st.detected_after_last_token_s >= 0.45  # never before the timeout
