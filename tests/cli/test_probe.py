"""``chimera probe`` against the project's test servers, and its one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from chimera.testing import ServerThread, TestServerConfig

Cli = Callable[..., int]


def test_probe_json_reports_server_models_loaded_and_exact_timings(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = TestServerConfig(
        models=["gemma3:latest"],
        prefill_ms=20,
        token_interval_ms=5,
        load_ms=15,
        responses=["Hello from the test server today"],
    )
    with ServerThread(cfg) as srv:
        assert cli("probe", srv.url, "--json") == 0
    [server] = json.loads(capsys.readouterr().out)["servers"]
    assert server["reachable"] is True and server["url"] == srv.url
    assert server["version"] == cfg.version
    assert [m["name"] for m in server["models"]] == ["gemma3:latest"]
    assert server["loaded"] == []  # as found, before the probe's own call loaded it
    call = server["test_call"]
    assert call["text"] == "Hello from the test server today"
    assert call["output_tokens"] == 6 and call["load_ms"] == 15
    assert call["prompt_eval_ms"] == 20 and call["eval_ms"] == 30
    assert call["decode_tokens_per_s"] == pytest.approx(200)
    assert call["ttft_ms"] >= 35 and call["e2e_ms"] >= call["ttft_ms"]
    assert call["estimated"] == []


def test_probe_openai_server_by_detection(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = TestServerConfig(
        protocol="openai", models=["tiny"], responses=["a b c"], token_interval_ms=2
    )
    with ServerThread(cfg) as srv:
        assert cli("probe", srv.url) == 0
    out = capsys.readouterr().out
    assert "openai" in out and "reachable" in out and "decode_tokens_per_s" in out
    assert "(est.)" in out  # plain OpenAI streams carry no server timings


def test_dead_url_is_one_clear_line_and_exit_3(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(TestServerConfig()) as srv:
        url = srv.url
    assert cli("probe", url, "--kind", "ollama") == 3
    out = capsys.readouterr().out
    assert f"cannot reach the server at {url}" in out and "ollama serve" in out
    assert "Traceback" not in out


def test_unknown_model_suggests_pull(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(TestServerConfig(models=["gemma3:latest"])) as srv:
        assert cli("probe", srv.url, "--model", "llama3:8b") == 3
    out = capsys.readouterr().out
    assert "ollama pull llama3:8b" in out and "Installed: gemma3:latest" in out
