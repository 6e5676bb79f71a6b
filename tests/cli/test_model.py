"""``chimera model tiny``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., int]


def test_writes_the_tiny_preset_and_says_what(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "m.gguf"
    assert cli("model", "tiny", str(path)) == 0
    out = capsys.readouterr().out
    size = path.stat().st_size
    assert f"wrote {path}" in out and f"{size:,} bytes" in out
    assert "hidden=64, layers=2" in out and "seed=0" in out
    assert size < 1_000_000


def test_flags_override_the_preset_and_json_reports_them(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "m.gguf"
    args = ["model", "tiny", str(path), "--size", "small", "--layers", "1", "--vocab", "400"]
    assert cli(*args, "--seed", "9", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == str(path.resolve())
    assert info["bytes"] == path.stat().st_size
    assert (info["size"], info["hidden"], info["layers"], info["vocab"]) == ("small", 512, 1, 400)
    assert (info["heads"], info["seed"]) == (8, 9)
    assert info["parameters"] * 4 < info["bytes"]


def test_bad_values_are_one_line_errors(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli("model", "tiny", str(tmp_path / "m.gguf"), "--size", "huge") == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: unknown model size 'huge'; known sizes: tiny, small"
    assert cli("model", "tiny", str(tmp_path / "m.gguf"), "--heads", "3") == 2
    assert "heads=3: must divide hidden=64" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
