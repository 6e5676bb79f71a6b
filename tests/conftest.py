"""Shared fixtures: every test's state goes to tmp_path, never to the user's directories."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CORPUS = SHARED / "corpus" / "banterhearts"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send Chimera's data directory and config lookups to the test's tmp_path."""
    monkeypatch.setenv("CHIMERA_HOME", str(tmp_path / "chimera-home"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def corpus() -> Path:
    """The real banterhearts artifacts beside the checkout; the test is skipped without them."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/banterhearts is not beside this checkout")
    return CORPUS
