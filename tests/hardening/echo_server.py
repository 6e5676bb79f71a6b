"""A failing OpenAI-compatible server that echoes the request it got (line, headers, body) in
its error: what a careless proxy does, and how an API key would leak into an error message."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, Self

EchoMode = Literal["status", "stream_error", "malformed"]


class EchoServer:
    """``status``: every request gets HTTP 500 with the echo as its error message;
    ``stream_error``: /v1/models answers, a generation streams the echo as an SSE error event;
    ``malformed``: a generation streams the echo as a line that is not JSON."""

    def __init__(self, mode: EchoMode, model: str = "m:1b") -> None:
        self.mode = mode
        self.model = model
        self.echoes: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                echo = f"{self.requestline} {dict(self.headers.items())} {body}"
                server.echoes.append(echo)
                if server.mode != "status" and self.path.startswith("/v1/models"):
                    self._send(200, "application/json", {"data": [{"id": server.model}]})
                elif server.mode == "status":
                    self._send(500, "application/json", {"error": {"message": echo}})
                elif server.mode == "stream_error":
                    event = json.dumps({"error": {"message": echo}})
                    self._raw(200, "text/event-stream", f"data: {event}\n\n".encode())
                else:
                    self._raw(200, "text/event-stream", f"data: {{{echo}\n\n".encode())

            do_GET = do_POST = _answer

            def _send(self, status: int, ctype: str, doc: object) -> None:
                self._raw(status, ctype, json.dumps(doc).encode())

            def _raw(self, status: int, ctype: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
