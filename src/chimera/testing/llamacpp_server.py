"""Run ``python -m llama_cpp.server`` on loopback for tests and demos; always stopped after.

    with llama_cpp_server(write_tiny_gguf(tmp_path / "m.gguf")) as url:
        backend = create_backend(kind="openai", url=url)

``model`` is a GGUF path or a bundled model's alias (``llama_cpp_server("smollm2")``).

The server is a real llama.cpp build serving one GGUF over the OpenAI API. It is started
with ``--interrupt_requests False`` (otherwise a new request cuts off streams in flight);
even so it serves one request at a time. It sends no usage and no timings in streams.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from chimera.errors import BackendError, ConfigError
from chimera.models.bundled import resolve_gguf

INSTALL_HINT = (
    "python -m llama_cpp.server needs llama-cpp-python with its server extra; install it "
    "with `pip install 'chimera-bench[llamacpp]'`"
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def server_command(
    model: Path, port: int, *, host: str = "127.0.0.1", extra_args: Sequence[str] = ()
) -> list[str]:
    """The command line that serves ``model`` on ``host:port``."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        host,
        "--port",
        str(port),
        "--interrupt_requests",
        "False",
        *extra_args,
    ]


@contextmanager
def llama_cpp_server(
    model: str | Path,
    *,
    port: int | None = None,
    startup_timeout_s: float = 60.0,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Serve ``model`` (a GGUF path or a bundled alias such as ``smollm2``); yield the base URL
    once ``/v1/models`` answers; stop the server after."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
        raise ConfigError(INSTALL_HINT)
    path = resolve_gguf(str(model))
    host = "127.0.0.1"
    port = port or free_port(host)
    url = f"http://{host}:{port}"
    # A file, not a pipe: nobody reads the server's log while it runs, and a full pipe
    # would block it.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            server_command(path, port, host=host, extra_args=extra_args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(proc, url, startup_timeout_s, log)
            yield url
        finally:
            _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout_s: float, log: IO[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BackendError(
                    f"llama_cpp.server exited with code {proc.returncode} before answering at "
                    f"{url}: {_tail(log)}",
                    url=url,
                )
            try:
                if client.get(url + "/v1/models").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise BackendError(
        f"llama_cpp.server did not answer at {url} within {timeout_s:g} s: {_tail(log)}", url=url
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: IO[bytes], limit: int = 600) -> str:
    log.flush()
    log.seek(0)
    text = log.read().decode("utf-8", "replace").strip()
    return ("..." + text[-limit:]) if len(text) > limit else (text or "(no output)")
