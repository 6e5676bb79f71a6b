"""Protocol-faithful Ollama and OpenAI test servers on loopback, for tests and benchmarks.

Each server speaks its protocol field by field over a real socket and models a real server's
timeline: a queue for ``slots`` parallel generations, ``load_ms`` on a model's first use,
``prefill_ms`` before the first token, ``token_interval_ms`` between tokens. The timings it
reports are those modelled values, exactly, so a test can assert the figures a client derives.
Faults (refused connection, 404, 500, an error line mid-stream, a cut or stalled stream, a
malformed line, an empty answer to a concurrent request) can be switched on from the start or
at any time; ``prompt_cache=True`` models each slot's KV prefix cache.

``engine="llamacpp"`` (with ``model="smollm2"`` or a GGUF path) puts real llama.cpp behind the
same protocols: parallel slots with their own prompt caches, real tokens, llama.cpp's timings.

    from chimera.testing import TestServer

    async def test_my_client() -> None:
        async with TestServer(protocol="ollama", prefill_ms=200, responses=["Hello world"]) as srv:
            ...  # point the client at srv.url; srv.requests holds what it sent

``ServerThread`` is the same server in a background thread for sync code and subprocesses;
``python -m chimera.testing --protocol openai --port 8000`` runs one from the shell, and
``python -m chimera.testing.throughput`` measures how fast its fast mode streams. See
docs/testing.md for every setting and the exact wire behaviour of each fault.
"""

from chimera.testing.config import FAULT_KINDS, FaultKind, TestServerConfig
from chimera.testing.server import ServerThread, TestServer
from chimera.testing.state import RecordedRequest

__all__ = [
    "FAULT_KINDS",
    "FaultKind",
    "RecordedRequest",
    "ServerThread",
    "TestServer",
    "TestServerConfig",
]
