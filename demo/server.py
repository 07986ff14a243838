"""Serve the demo shop over real HTTP on loopback, in a background thread.

Why a real server: the crawler is tested end to end (sockets, keep-alive, redirects, headers,
encodings), and benchmarked, so the demo must speak HTTP/1.1 and must not be the bottleneck.
Responses are pre-computed bytes cached per (path, base URL) by `DemoSite.response`; the handler
only writes them. Request logging is off so test output stays readable.

    with DemoServer() as server:
        urllib.request.urlopen(server.base_url + "/")

`python -m demo.server --port 8765` serves in the foreground until Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from demo.background import BackgroundServer
from demo.site import DemoSite, build_demo_site


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A crawler opens many connections at once; the default backlog of 5 drops SYNs under load,
    # which shows up as one-second stalls.
    request_queue_size = 256
    site: DemoSite
    base_url: str


class _Handler(BaseHTTPRequestHandler):
    """GET and HEAD from the site's response cache; HTTP/1.1 so clients can keep connections."""

    protocol_version = "HTTP/1.1"
    server_version = "DemoShop/1.0"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus delayed ACKs
    # stall keep-alive responses by ~40 ms on loopback.
    disable_nagle_algorithm = True
    server: _DemoHTTPServer

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def _respond(self, *, with_body: bool) -> None:
        target = self.path
        if not target.startswith("/"):  # absolute-form request target (proxies)
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        response = self.server.site.response(target, self.server.base_url)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if with_body and response.body:
            self.wfile.write(response.body)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: a crawl makes thousands of requests."""


class DemoServer(BackgroundServer):
    """The demo shop on `host:port` (port 0 picks a free one); sets `site.base_url` on start."""

    thread_name = "demo-server"

    def __init__(
        self, site: DemoSite | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.site = site if site is not None else build_demo_site()
        # Bind now so a busy port fails in the constructor, where callers can report it.
        self._httpd = _DemoHTTPServer((host, port), _Handler)
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host, self.port = str(bound_host), int(bound_port)
        self.base_url = f"http://{self.host}:{self.port}"
        self._httpd.site = self.site
        self._httpd.base_url = self.base_url
        self.site.base_url = self.base_url

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.base_url + path

    def start(self) -> DemoServer:
        self.site.base_url = self.base_url  # another server may have reused the site meanwhile
        return super().start()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._httpd.serve_forever(poll_interval=0.2)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """`python -m demo.server [--host H] [--port P] [--seed S]`: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m demo.server", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        server = DemoServer(build_demo_site(args.seed), host=args.host, port=args.port)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"demo shop serving on {server.base_url}/ (Ctrl-C to stop)", flush=True)
    # SIGTERM (from scripts and process managers) stops as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
