"""--connect-timeout, --first-token-timeout and --idle-timeout, and their scenario-file keys:
a stalled server fails the call with a typed timeout naming the server, the phase and the flag,
the failure is recorded, and the run goes on to write what it has."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.agent.personas import BUILTIN
from chimera.backends.base import EndpointSettings, Timeouts
from chimera.bench.scenarios import load_scenario_file
from chimera.testing import ServerThread, TestServerConfig

Cli = Callable[..., int]


def test_timeouts_apply_only_what_is_set() -> None:
    base = EndpointSettings()
    t = Timeouts(idle_timeout_s=5)
    assert t.applied(base).idle_timeout_s == 5
    assert t.applied(base).first_token_timeout_s == base.first_token_timeout_s
    assert Timeouts().applied(base) is base
    own = Timeouts(connect_timeout_s=2)
    assert own.over(t) == Timeouts(connect_timeout_s=2, idle_timeout_s=5)


def test_a_stalled_stream_fails_the_run_in_the_idle_timeout(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.csv").write_text("model,tokens_per_s\nm:1b,50.5\n", encoding="utf-8")
    out = tmp_path / "out"
    cfg = TestServerConfig(models=["m:1b"], fault="stall", fault_after_tokens=2)
    with ServerThread(cfg) as srv:
        t = time.perf_counter()
        code = cli(
            "run", str(tmp_path / "a.csv"), "--backend", "ollama", "--url", srv.url,
            "--model", "m:1b", "--idle-timeout", "0.3", "--output-dir", str(out), "--no-store",
            "-q",
        )  # fmt: skip
        took = time.perf_counter() - t
    assert code == 4 and took < 30  # not the default 120 s
    said = capsys.readouterr().out
    assert "no token after the previous one within 0.3 s" in said and "--idle-timeout" in said
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    [call] = metrics["calls"]
    assert call["error_type"] == "IdleTimeoutError" and srv.url.split("//")[1] in call["error"]
    assert (out / "report.md").is_file()  # the run went on to write what it had


def test_scenario_file_timeouts_win_over_the_flags(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'backend = "ollama"\nidle_timeout_s = 30\n'
        '[[agents]]\nlabel = "A"\nfirst_token_timeout_s = 5\n'
        '[[agents]]\nlabel = "B"\nidle_timeout_s = 7\n',
        encoding="utf-8",
    )
    spec = load_scenario_file(path, dict(BUILTIN), model="m")
    flags = Timeouts(connect_timeout_s=1, idle_timeout_s=99)
    a, b = (agent.with_timeouts(flags).timeouts for agent in spec.agents)
    assert a == Timeouts(connect_timeout_s=1, first_token_timeout_s=5, idle_timeout_s=30)
    assert b == Timeouts(connect_timeout_s=1, idle_timeout_s=7)
    path.write_text("[[agents]]\nidle_timeout_s = -1\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"agents\.0\.idle_timeout_s"):
        load_scenario_file(path, dict(BUILTIN), model="m")


def test_probe_takes_the_connect_and_first_token_timeouts(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(TestServerConfig(prefill_ms=3000)) as srv:
        code = cli("probe", srv.url, "--first-token-timeout", "0.3", "--json")
    doc = json.loads(capsys.readouterr().out)
    assert code == 3
    assert "no first token within 0.3 s" in doc["servers"][0]["error"]


@pytest.mark.parametrize(
    "args",
    [
        ["run", ".", "--backend", "openai", "--num-ctx", "1024"],
        ["sweep", "--backend", "openai", "--model", "m", "--num-ctx", "512,1024"],
        ["optimize", "--backend", "openai", "--model", "m", "--num-gpu", "0:99"],
        [
            "multiagent",
            ".",
            "--backend",
            "openai",
            "--chimera-num-ctx",
            "1024",
            "--collector-ollama-url",
            "http://127.0.0.1:9",
        ],
    ],
)
def test_options_a_backend_cannot_set_are_a_usage_error_before_anything_runs(
    cli: Cli, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = [] if args[0] == "multiagent" else ["--url", "http://127.0.0.1:9"]
    code = cli(*args, *url)  # nothing listens there: nothing is sent
    err = capsys.readouterr().err
    assert code == 2, err
    assert "the openai backend cannot set num_" in err and "--ctx-size" in err
    assert err.count("\n") == 1  # one line


def test_options_llama_cpp_python_does_not_apply_are_refused_at_the_boundary(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # refused before ingest and before any model is looked for (the path does not exist)
    code = cli(
        "run",
        str(tmp_path),
        "--backend",
        "llamacpp",
        "--model",
        "/nowhere.gguf",
        "--option",
        "tfs_z=0.9",
        "--db",
        str(tmp_path / "runs.db"),
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "the llamacpp backend cannot set tfs_z" in err and "ollama" in err
    assert err.count("\n") == 1 and not (tmp_path / "runs.db").exists()
