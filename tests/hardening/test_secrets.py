"""An API key never reaches an output file, the store, a log, stdout/stderr or an error message:
every command that can send one runs against the OpenAI test server (which needs it) and against
failing servers that echo the request, key included, in their errors; then every byte written
under tmp_path, and everything printed, is searched for the key."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from chimera.testing import ServerThread

from .conftest import Cli
from .echo_server import EchoServer

KEY = "sk-chimera-0TEST-SECRET-7f3a9c2e1b5d"
MODEL = "m:1b"
ANSWER = "# Summary\n\nm:1b decodes at 50.5 tok/s with num_ctx=2048.\n"


def _args(command: str, url: str, tmp: Path) -> list[str]:
    """The command line for ``command`` against ``url``, all state under ``tmp``."""
    out, db = str(tmp / "out"), str(tmp / "runs.db")
    common = ["--backend", "openai", "--url", url, "--api-key-env", "MY_KEY", "--model", MODEL]
    if command == "run":
        return ["run", str(tmp / "data"), *common, "--output-dir", out, "--db", db, "--html", "-q"]
    if command == "sweep":
        return ["sweep", *common, "--temperature", "0.1,0.2", "--runs", "1", "--warmup", "0",
                "--num-predict", "4", "--output-dir", out, "--db", db, "--html", "-q"]  # fmt: skip
    if command == "optimize":
        return ["optimize", *common, "--temperature", "0.1:0.9", "--trials", "2", "--runs", "1",
                "--warmup", "0", "--num-predict", "4", "--db", db, "--json", "-q"]  # fmt: skip
    if command == "multiagent":
        scenario = tmp / "scenario.toml"  # the key's variable named in the scenario's settings
        scenario.write_text(
            f'backend = "openai"\nurl = "{url}"\napi_key_env = "MY_KEY"\nmodel = "{MODEL}"\n'
            '[[agents]]\nlabel = "A"\n[[agents]]\nlabel = "B"\npersona = "collector"\n',
            encoding="utf-8",
        )
        return ["multiagent", "--scenario-file", str(scenario), "--runs", "1", "--warmup", "0",
                "--output-dir", out, "--db", db, "--config", str(tmp / "ingest.toml"),
                "--html", "-q", str(tmp / "data")]  # fmt: skip
    if command == "probe":  # probe reads the key from OPENAI_API_KEY
        return ["probe", url, "--kind", "openai", "--model", MODEL, "--num-predict", "4", "--json"]
    assert command == "load"
    return ["load", url, "--backend", "openai", "--api-key-env", "MY_KEY", "--model", MODEL,
            "-c", "2", "-n", "4", "--warmup", "0", "--input-tokens", "16", "--output-tokens", "4",
            "--output-dir", out, "--db", db, "--json", "--csv", "--html"]  # fmt: skip


COMMANDS = ["run", "sweep", "optimize", "multiagent", "probe", "load"]


def _test_server() -> AbstractContextManager[ServerThread]:
    return ServerThread(
        protocol="openai", api_key=KEY, models=[MODEL], responses=[ANSWER], token_interval_ms=2
    )


def _echoing_model() -> AbstractContextManager[ServerThread]:
    """A model that says the key back in a successful answer (a server that put the request's
    headers in the prompt, a model that repeats what it saw)."""
    return ServerThread(
        protocol="openai",
        api_key=KEY,
        models=[MODEL],
        responses=[ANSWER + f"\nThe header was Authorization: Bearer {KEY} .\n"],
        token_interval_ms=2,
    )


SERVERS: dict[str, Callable[[], AbstractContextManager[ServerThread | EchoServer]]] = {
    "ok": _test_server,
    "echo_in_answer": _echoing_model,
    "echo_500": lambda: EchoServer("status", MODEL),
    "echo_stream_error": lambda: EchoServer("stream_error", MODEL),
    "echo_malformed": lambda: EchoServer("malformed", MODEL),
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bench.csv").write_text(
        "model,num_ctx,tokens_per_second,ttft_s\nm:1b,2048,50.5,0.2\nm:1b,4096,45.0,0.3\n",
        encoding="utf-8",
    )
    (tmp_path / "ingest.toml").write_text("[ingest]\nfirst_n = 3\n", encoding="utf-8")
    monkeypatch.setenv("MY_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _files_holding(root: Path, secret: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


@pytest.mark.parametrize("server", list(SERVERS))
@pytest.mark.parametrize("command", COMMANDS)
def test_the_key_is_never_written_or_printed(
    cli: Cli,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    command: str,
    server: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    with SERVERS[server]() as srv:
        code = cli(*_args(command, srv.url, workdir))
    out, err = capsys.readouterr()
    # the key went out (else the test proves nothing): accepted, or echoed back in an error
    if isinstance(srv, EchoServer):
        assert any(KEY in echo for echo in srv.echoes), srv.echoes
        assert code != 0
    else:
        assert code == 0, (out, err)
    assert "Traceback" not in err, err
    assert KEY not in out and KEY not in err and KEY not in caplog.text
    assert _files_holding(workdir, KEY.encode()) == []
    if not isinstance(srv, EchoServer) and command != "probe":
        assert any(workdir.rglob("*.db"))  # the store was searched too
