"""The console entry point: Ctrl-C says it was an interruption, exactly once, with exit 130."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import typer

import chimera.cli.ingest as ingest_cli

Cli = Callable[..., int]


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


def _interrupt_and_report(*_args: object, **_kwargs: object) -> None:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        print("stopped after 3 of 5 files")
        raise typer.Exit(130) from None


def test_ctrl_c_in_a_command_prints_interrupted_and_exits_130(
    cli: Cli, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_cli, "ingest_paths", _interrupt)
    assert cli("ingest", ".") == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_a_command_that_reports_its_own_interruption_is_not_repeated(
    cli: Cli, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_cli, "ingest_paths", _interrupt_and_report)
    assert cli("ingest", ".") == 130
    out = capsys.readouterr()
    assert out.out.strip() == "stopped after 3 of 5 files"
    assert "interrupted" not in out.err
