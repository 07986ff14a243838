"""Open a sitemap over HTTP as a byte stream: guarded, retried, redirects followed by hand.

Why not `ingest.crawl.fetch.fetch_url`: it buffers each body (up to its cap) in memory, which is
right for HTML pages and wrong for a 50 MB sitemap or a gzip bomb. This module reuses the same
shared pieces (`ingest.http`: the address guard, `with_retries` with backoff and `Retry-After`,
`error_kind`) but hands back the open response so the caller can stream it through the parser.

Bytes are read raw (`aiter_raw`): Content-Encoding is not decoded by httpx, whose decoder has no
size cap. Gzip is recognized by magic bytes downstream whatever the headers say, and we only ask
for gzip (`Accept-Encoding: gzip`), so any other content coding is an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from ingest.http import (
    AddressGuard,
    AddressRefused,
    HostUnresolvable,
    RetryPolicy,
    client_guard,
    error_kind,
    with_retries,
)
from ingest.urls import InvalidURL, normalize_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = (
    "application/xml,text/xml;q=0.9,application/gzip;q=0.9,text/plain;q=0.8,"
    "application/rss+xml;q=0.8,application/atom+xml;q=0.8,*/*;q=0.5"
)
SUPPORTED_CODINGS = frozenset({"", "identity", "gzip", "x-gzip"})


@dataclass
class OpenedSitemap:
    """The outcome of requesting one sitemap; `response` is open (streaming) only on success."""

    url: str
    final_url: str
    status: int | None = None
    content_type: str | None = None
    content_encoding: str | None = None
    redirects: list[str] = field(default_factory=list)
    response: httpx.Response | None = None
    error_kind: str | None = None
    error: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    response_ms: float | None = None

    async def aclose(self) -> None:
        if self.response is not None:
            await self.response.aclose()
            self.response = None


async def open_sitemap(
    client: httpx.AsyncClient,
    url: str,
    *,
    retry: RetryPolicy,
    guard: AddressGuard | None = None,
    max_redirects: int = 5,
) -> OpenedSitemap:
    """GET `url`, following redirects (each hop guarded); never raises for network trouble."""
    guard = guard or client_guard(client)
    opened = OpenedSitemap(url=url, final_url=url)
    started = time.perf_counter()
    current = url
    visited = {url}
    headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip"}
    while True:
        try:
            if guard is not None:
                await guard.check_url(current)
            response = await with_retries(
                lambda target=current: client.send(
                    client.build_request("GET", target, headers=headers), stream=True
                ),
                retry,
                status_of=lambda r: r.status_code,
                retry_after_of=lambda r: r.headers.get("retry-after"),
                discard=lambda r: r.aclose(),
            )
        except (AddressRefused, HostUnresolvable) as exc:
            return _failed(opened, error_kind(exc), str(exc), started)
        except Exception as exc:  # noqa: BLE001 - every failure becomes data, never a crash
            return _failed(opened, error_kind(exc), str(exc) or type(exc).__name__, started)
        opened.final_url = current
        opened.status = response.status_code
        opened.content_type = response.headers.get("content-type")
        location = response.headers.get("location")
        if response.status_code in REDIRECT_STATUSES and location:
            await response.aclose()
            try:
                target = normalize_url(location, current)
            except InvalidURL as exc:
                return _failed(opened, "bad_redirect", f"invalid Location {location!r}: {exc}",
                               started)  # fmt: skip
            if target in visited:
                return _failed(opened, "redirect_loop", f"redirect loop back to {target}", started)
            if len(opened.redirects) >= max_redirects:
                return _failed(opened, "too_many_redirects",
                               f"more than {max_redirects} redirects", started)  # fmt: skip
            opened.redirects.append(current)
            visited.add(target)
            current = target
            continue
        opened.response_ms = (time.perf_counter() - started) * 1000.0
        if not 200 <= response.status_code < 300:
            await response.aclose()
            opened.error_kind = "http_status"
            opened.error = f"HTTP {response.status_code}"
            return opened
        coding = response.headers.get("content-encoding", "").strip().lower()
        opened.content_encoding = coding or None
        if coding not in SUPPORTED_CODINGS:
            await response.aclose()
            opened.error_kind = "unsupported_encoding"
            opened.error = f"unsupported Content-Encoding {coding!r} (only gzip was accepted)"
            return opened
        opened.response = response
        return opened


def _failed(opened: OpenedSitemap, kind: str, message: str, started: float) -> OpenedSitemap:
    opened.error_kind = kind
    opened.error = message
    opened.response_ms = (time.perf_counter() - started) * 1000.0
    return opened
