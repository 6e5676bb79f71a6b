"""Fixtures for the legacy import tests: the hand-written old result trees (trees.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def load_trees() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "chimera_tests_legacy_trees", Path(__file__).with_name("trees.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def trees() -> ModuleType:
    return load_trees()


@pytest.fixture
def tree(trees: ModuleType, tmp_path: Path) -> dict[str, Path]:
    """One old result folder of each kind (and a Chimera summary) under tmp_path/old."""
    return dict(trees.every_kind(tmp_path / "old"))
