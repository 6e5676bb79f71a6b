"""A Ray instance on the loopback for the executor's tests, started once per module and shut
down after (no process left behind), and two test servers to spread points over."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chimera.executor.cluster import shutdown
from chimera.testing import ServerThread

RAY_CPUS = 2


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    """Ray started here: 2 CPUs, no dashboard, its files in a short folder under /tmp (its
    Unix sockets' paths must stay under 108 bytes, which tmp_path's may not)."""
    ray = pytest.importorskip("ray", reason="the ray extra: pip install 'chimera-bench[ray]'")
    temp = tempfile.mkdtemp(prefix="cray", dir="/tmp")
    ray.init(
        address="local",
        include_dashboard=False,
        num_cpus=RAY_CPUS,
        _node_ip_address="127.0.0.1",
        _temp_dir=temp,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        shutdown(ray)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A folder under /tmp with a short path (for RAY_TMPDIR), removed after the test."""
    path = Path(tempfile.mkdtemp(prefix="cray", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def two_servers() -> Iterator[tuple[ServerThread, ServerThread]]:
    """Two independent Ollama-protocol servers, quick enough for many small points."""
    timing: dict[str, Any] = {"prefill_ms": 5, "token_interval_ms": 1, "default_tokens": 8}
    with ServerThread(**timing) as a, ServerThread(**timing) as b:
        yield a, b
