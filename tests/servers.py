"""A real threaded HTTP/1.1 server on 127.0.0.1 (port 0) with programmable routes, for tests.

Why a real server and not a mock transport: the crawler's behaviour under faults (keep-alive,
slow bodies, resets, 20 MB responses, redirects) lives in the socket layer as much as in our
code. Every request is recorded (path and arrival time) so tests can assert what the server saw:
how often a URL was fetched, or when a retry arrived.

    with TestServer({"/": Reply(body=b"<a href='/a'>a</a>")}) as server:
        server.url("/")          # http://127.0.0.1:PORT/
        server.count("/a")       # requests seen for /a
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from demo.background import BackgroundServer


@dataclass
class Reply:
    """One response. `body` may be bytes or an iterable of chunks (streamed, for big bodies)."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    delay_s: float = 0.0  # before the status line
    content_length: int | None = None  # needed with an iterable body (else chunked)


@dataclass(frozen=True)
class Request:
    path: str  # path with query, as sent
    at: float  # time.monotonic() on arrival
    headers: Mapping[str, str]


Route = Reply | Callable[[Request], Reply]


def html(body: str, *, title: str = "", charset: str = "utf-8") -> bytes:
    """A small HTML page."""
    return (
        f"<!doctype html><html><head><meta charset='{charset}'><title>{title}</title></head>"
        f"<body>{body}</body></html>"
    ).encode(charset)


def links_page(*hrefs: str, title: str = "") -> Reply:
    return Reply(body=html("".join(f"<a href='{h}'>{h}</a>" for h in hrefs), title=title))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    owner: TestServer

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (a killed crawler, a cut download) is not a server error."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        owner = self.server.owner
        request = Request(
            self.path, time.monotonic(), {k.lower(): v for k, v in self.headers.items()}
        )
        owner._record(request)
        reply = owner._reply_for(request)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.content_type is not None:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes | bytearray):
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        if reply.content_length is not None:
            self.send_header("Content-Length", str(reply.content_length))
            self.end_headers()
            for chunk in reply.body:
                self.wfile.write(chunk)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in reply.body:
            if chunk:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class TestServer(BackgroundServer):
    """Routes: exact path+query, else path, else `fallback`, else 404."""

    __test__ = False  # not a pytest test class
    thread_name = "test-server"

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        fallback: Callable[[Request], Reply] | None = None,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.fallback = fallback
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port = int(self._httpd.server_address[1])
        self.netloc = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.netloc}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(r.path for r in self.requests)

    def times(self, path: str) -> list[float]:
        with self._lock:
            return [r.at for r in self.requests if r.path == path]

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _reply_for(self, request: Request) -> Reply:
        route = self.routes.get(request.path) or self.routes.get(request.path.split("?", 1)[0])
        if route is None and self.fallback is not None:
            route = self.fallback
        if route is None:
            return Reply(404, b"not found", content_type="text/plain")
        return route(request) if callable(route) else route
