"""A scripted HTTP server on 127.0.0.1 for collector tests (standard library only)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collectors.http import HttpClient, HttpSettings

FIXTURES = Path(__file__).parent / "fixtures" / "forums"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


@dataclass
class Reply:
    """One scripted answer. A non-bytes, non-str body is sent as JSON."""

    body: Any = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    drop: bool = False  # close the connection without answering
    stream_bytes: int = 0  # send this many filler bytes, without Content-Length
    delay: float = 0.0  # wait this long before answering
    drip: float = 0.0  # with stream_bytes: pause this long between 64 KiB chunks


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Request], Reply]


class Loopback:
    """Serves scripted replies per path; the last reply for a path repeats.

    Use as a context manager; `url` is the base URL, `requests` every request seen.
    """

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply | Handler]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply | Handler) -> None:
        self.routes[path] = list(replies)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self.routes.get(request.path)
            if not queue:
                return Reply({"error": "not found"}, status=404)
            step = queue.pop(0) if len(queue) > 1 else queue[0]
        return step(request) if callable(step) else step

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_class(server: Loopback) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            request = Request("GET", parts.path, parse_qs(parts.query), dict(self.headers))
            reply = server._next(request)
            time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            body = reply.body
            ctype = reply.content_type
            if not isinstance(body, bytes | str):
                body, ctype = json.dumps(body).encode(), ctype or "application/json"
            elif isinstance(body, str):
                body = body.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", ctype or "application/octet-stream")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            try:
                if reply.stream_bytes:
                    self.end_headers()
                    chunk = b"x" * 65536
                    for _ in range(0, reply.stream_bytes, len(chunk)):
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        time.sleep(reply.drip)
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return _Handler


def fast_client(slept: list[float] | None = None, **settings: Any) -> HttpClient:
    """An HttpClient that records its sleeps instead of sleeping."""
    record = slept if slept is not None else []
    options = {"min_interval": 0.0, "timeout": 5.0, **settings}
    return HttpClient(HttpSettings(**options), sleep=record.append)


class SilentHost:
    """A host on 127.0.0.1 that accepts connections, reads what is sent and never answers
    (a hung server behind a working load balancer). `connections` counts accepted ones."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.05)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self.connections = 0

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.connections += 1
            self._held.append(conn)  # kept open, never answered

    def __enter__(self) -> SilentHost:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self._sock.close()
