"""Run the ``chimera`` command in-process, as a user would from the shell."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from chimera.models import BUNDLED, write_tiny_gguf


class BundledPackage:
    """Makes the bundled model's package look installed in tmp_path (with a tiny GGUF under the
    model's file name, so commands run in seconds), or not installed at all."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.model = BUNDLED["smollm2"]
        self._tmp = tmp_path
        self._monkeypatch = monkeypatch

    def install(self, ctx: int = 2048) -> Path:
        folder = self._tmp / "site" / self.model.package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text("")
        path = write_tiny_gguf(folder / self.model.filename, ctx=ctx)
        self._point(folder)
        return path

    def remove(self) -> None:
        self._point(None)

    def _point(self, folder: Path | None) -> None:
        """``find_spec`` finds the package in ``folder`` (None: nowhere); others as they are."""
        real = importlib.util.find_spec
        package = self.model.package

        def find_spec(name: str, parent: str | None = None) -> object:
            if name != package:
                return real(name, parent)
            if folder is None:
                return None
            return importlib.util.spec_from_file_location(
                name, folder / "__init__.py", submodule_search_locations=[str(folder)]
            )

        self._monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.fixture
def bundled_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BundledPackage:
    return BundledPackage(tmp_path, monkeypatch)
