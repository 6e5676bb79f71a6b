"""Fixtures for the ingestion tests: tree builders and a once-per-session corpus ingestion."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from chimera.ingest import IngestResult, ingest_paths

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "banterhearts"


def _load_hostile() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "chimera_tests_hostile", Path(__file__).with_name("hostile.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_HOSTILE = _load_hostile()


@pytest.fixture(scope="session")
def hostile() -> ModuleType:
    """tests/ingest/hostile.py: the hostile-tree and many-files builders."""
    return _HOSTILE


@pytest.fixture(scope="session")
def corpus_result() -> IngestResult:
    """The banterhearts corpus ingested once (read-only for the tests that use it)."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/banterhearts is not beside this checkout")
    return ingest_paths([CORPUS])


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """``write("a/b.csv", text)`` creates a file under tmp_path and returns its path."""

    def make(rel: str, content: str | bytes) -> Path:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return p

    return make
