"""Shared fixtures: every test's state goes to tmp_path, never to the user's directories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chimera.cli.app import main

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CORPUS = SHARED / "corpus" / "banterhearts"


@pytest.fixture(scope="session", autouse=True)
def _isolated_session_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same for session-scoped fixtures, which run before any test's monkeypatch (the
    corpus ingested once would otherwise fill the user's parse cache)."""
    home = tmp_path_factory.mktemp("chimera-session-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHIMERA_HOME", str(home))
        mp.delenv("CHIMERA_CACHE_DIR", raising=False)
        mp.delenv("CHIMERA_DB", raising=False)
        yield


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send Chimera's data directory and config lookups to the test's tmp_path."""
    monkeypatch.setenv("CHIMERA_HOME", str(tmp_path / "chimera-home"))
    monkeypatch.delenv("CHIMERA_CACHE_DIR", raising=False)
    monkeypatch.delenv("CHIMERA_DB", raising=False)
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def corpus() -> Path:
    """The real banterhearts artifacts beside the checkout; the test is skipped without them."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/banterhearts is not beside this checkout")
    return CORPUS


Cli = Callable[..., int]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("probe", "--json")`` runs ``chimera probe --json`` in-process and returns its exit
    code."""

    def run(*args: str) -> int:
        monkeypatch.setattr("sys.argv", ["chimera", *args])
        try:
            main()
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    return run
