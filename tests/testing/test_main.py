"""``python -m chimera.testing``: the listening line, serving, clean exit on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from chimera.testing.__main__ import build_parser, config_from_args


@contextmanager
def _running(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chimera.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), proc.stderr and proc.stderr.read()
        yield proc, line.strip().removeprefix("listening on ")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_a_signal_then_exits_cleanly(sig: signal.Signals) -> None:
    with _running("--response", "from the cli", "--slots", "1") as (proc, url):
        r = httpx.post(
            url + "/api/generate", json={"model": "tiny", "prompt": "x", "stream": False}
        )
        assert r.json()["response"] == "from the cli"
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == ""


def test_openai_with_a_key_from_the_environment() -> None:
    args = ("--protocol", "openai", "--api-key-env", "TEST_SERVER_KEY", "--uvloop", "--fast")
    with _running(*args, env={"TEST_SERVER_KEY": "k-123"}) as (proc, url):
        assert httpx.get(url + "/v1/models").status_code == 401
        ok = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer k-123"})
        assert ok.json()["data"][0]["id"] == "tiny:latest"
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_flags_map_onto_the_config() -> None:
    args = build_parser().parse_args(
        [
            "--protocol", "openai", "--models", "a, b:1", "--response", "x", "--response", "y",
            "--tokens", "7", "--load-ms", "1", "--prefill-ms", "2", "--token-interval-ms", "3",
            "--slots", "4", "--fault", "cut", "--fault-after-tokens", "5",
            "--fault-from-request", "6", "--llamacpp-timings", "--no-usage", "--fast",
        ]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.models == ["a", "b:1"] and config.responses == ["x", "y"]
    assert (config.default_tokens, config.load_ms, config.prefill_ms) == (7, 1, 2)
    assert (config.token_interval_ms, config.slots, config.fault) == (3, 4, "cut")
    assert (config.fault_after_tokens, config.fault_from_request) == (5, 6)
    assert config.llamacpp_timings and not config.usage_in_stream and config.fast
    assert config.record_requests is False


def test_bad_values_name_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="--slots"):
        config_from_args(build_parser().parse_args(["--slots", "-2"]))
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(SystemExit, match="NO_SUCH_KEY_VAR"):
        config_from_args(build_parser().parse_args(["--api-key-env", "NO_SUCH_KEY_VAR"]))
