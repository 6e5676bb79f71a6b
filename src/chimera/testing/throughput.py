"""``python -m chimera.testing.throughput``: how many stream chunks/s a fast-mode server sends.

Starts ``python -m chimera.testing --fast`` in a subprocess (pinned to one core with
``--server-cpu``, Linux only) and reads its streams with a raw-socket client that only counts
event separators, so the figure is the server's, not an HTTP client's. Use it to check that the
test server is not the bottleneck of a client benchmark on your machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

import orjson

_SEPARATOR = {"ollama": b"}\n", "openai": b"\n\n"}
_END = b"0\r\n\r\n"


def _request(protocol: str, tokens: int) -> bytes:
    body: dict[str, object]
    if protocol == "ollama":
        path = "/api/generate"
        body = {"model": "tiny:latest", "prompt": "go", "options": {"num_predict": tokens}}
    else:
        path = "/v1/completions"
        body = {"model": "tiny:latest", "prompt": "go", "max_tokens": tokens, "stream": True}
    payload = orjson.dumps(body)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    return head.encode() + b"Content-Length: %d\r\n\r\n" % len(payload) + payload


async def _read_stream(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, sep: bytes
) -> int:
    """Send one request; count events until the terminating chunk. Returns the event count."""
    writer.write(request)
    events = 0
    tail = b""
    while True:
        data = await reader.read(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection mid-stream")
        window = tail + data
        events += window.count(sep) - tail.count(sep)
        if window.endswith(_END):
            return events
        tail = window[-8:]


async def _client(url: str, protocol: str, tokens: int, requests: int) -> int:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 22)
    request, sep = _request(protocol, tokens), _SEPARATOR[protocol]
    events = 0
    try:
        for _ in range(requests):
            events += await _read_stream(reader, writer, request, sep)
    finally:
        writer.close()
        await writer.wait_closed()
    return events


async def measure(url: str, protocol: str, tokens: int, requests: int, connections: int) -> float:
    """Events per second over ``connections`` connections each making ``requests`` requests."""
    await _client(url, protocol, 16, 1)  # warm up: connection set-up, first-request costs
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(_client(url, protocol, tokens, requests) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    return sum(counts) / elapsed


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m chimera.testing.throughput")
    p.add_argument("--protocol", choices=["ollama", "openai"], default="ollama")
    p.add_argument("--server-cpu", type=int, help="pin the server to this CPU (taskset)")
    p.add_argument("--no-uvloop", action="store_true")
    args = p.parse_args(argv)
    tokens = 200_000
    cmd = [
        sys.executable,
        "-m",
        "chimera.testing",
        "--fast",
        "--protocol",
        args.protocol,
        "--tokens",
        str(tokens),
    ]
    if not args.no_uvloop:
        cmd.append("--uvloop")
    if args.server_cpu is not None:
        cmd = ["taskset", "-c", str(args.server_cpu), *cmd]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().removeprefix("listening on ")
        cases = [
            ("one long stream", tokens, 3, 1),
            ("64 connections x 20 x 500 tokens", 500, 20, 64),
        ]
        for label, n, requests, connections in cases:
            rate = asyncio.run(measure(url, args.protocol, n, requests, connections))
            print(f"{args.protocol} fast mode, {label}: {rate:,.0f} chunks/s", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if os.name == "posix" and args.server_cpu is None:
        print("(pin the server with --server-cpu N for a per-core figure)")


if __name__ == "__main__":
    main()
