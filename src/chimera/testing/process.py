"""``python -m chimera.testing`` in child processes, for tests and benchmarks that want each
server off their own interpreter (a real engine's CPU time on a core of its own)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence

from chimera.errors import BackendError


@contextlib.contextmanager
def server_processes(
    n: int, args: Sequence[str], *, stop_timeout_s: float = 20.0
) -> Iterator[list[str]]:
    """Start ``n`` servers with the command-line ``args`` (``--port 0`` is added); yield their
    URLs once each has printed ``listening on URL``; stop them all after, whatever happened."""
    procs: list[subprocess.Popen[str]] = []
    with contextlib.ExitStack() as stack:
        try:
            urls = []
            for _ in range(n):
                # A file, not a pipe, for the log: nobody reads it while the server runs.
                log = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
                cmd = [sys.executable, "-m", "chimera.testing", *args, "--port", "0"]
                proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True
                )
                procs.append(proc)
                assert proc.stdout is not None
                line = proc.stdout.readline()
                if "listening on " not in line:
                    proc.wait(timeout=stop_timeout_s)
                    log.seek(0)
                    said = (log.read() or line).strip()[-400:]
                    raise BackendError(f"`python -m chimera.testing` did not start: {said}")
                urls.append(line.split("listening on ", 1)[1].strip())
            yield urls
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=stop_timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()
