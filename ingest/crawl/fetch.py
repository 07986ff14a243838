"""One fetch: a GET with redirects followed by hand, a streamed body cut at a size cap.

Why by hand: every hop of a redirect chain is data (the warehouse folds chains and reports
them), every hop must pass the address guard and the crawl scope, and the crawler needs to claim
each hop URL so it is never fetched twice. The body is streamed so a 20 MB response costs
`max_bytes` of memory, not 20 MB, and non-HTML bodies stop after the first chunk.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import httpx

from ingest.http import (
    AddressGuard,
    AddressRefused,
    Attempt,
    HostUnresolvable,
    RetryPolicy,
    error_kind,
    is_retryable_status,
    with_retries,
)
from ingest.urls import DEFAULT_POLICY, InvalidURL, UrlPolicy, normalize_url

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"

Hop = tuple[str, int | None]


@dataclass(frozen=True)
class HopResponse:
    """What one URL answered (after retries). `status` is None when no response came."""

    url: str
    status: int | None
    headers: Mapping[str, str]
    content_type: str | None
    body: bytes
    n_bytes: int  # body bytes read (Content-Length when reading stopped early on non-HTML)
    truncated: bool
    body_complete: bool  # False when reading stopped early (not HTML, or cut at the cap)
    response_ms: float | None
    fetched_at: datetime
    location: str | None = None  # normalized redirect target, when this hop redirects
    error_kind: str | None = None
    error: str | None = None
    attempts: int = 1


@dataclass(frozen=True)
class ChainEnd:
    """Returned by an `admit` hook: do not fetch this hop; the chain continues elsewhere.

    `chain` starts with the hop URL and holds what is known of it (its status may be None);
    `reason` names why we stopped ('seen', 'out_of_scope', 'blocked_by_robots', ...).
    """

    chain: tuple[Hop, ...]
    reason: str
    message: str | None = None


@dataclass
class FetchResult:
    """Outcome of following one URL: the hops we fetched plus what we know beyond them."""

    url: str
    hops: list[HopResponse] = field(default_factory=list)
    tail: tuple[Hop, ...] = ()
    stop_reason: str | None = None  # None: the last hop is a final response
    stop_message: str | None = None

    @property
    def chain(self) -> list[Hop]:
        return [(h.url, h.status) for h in self.hops] + list(self.tail)

    @property
    def final_url(self) -> str | None:
        chain = self.chain
        return chain[-1][0] if chain else None

    @property
    def final_status(self) -> int | None:
        chain = self.chain
        return chain[-1][1] if chain else None

    @property
    def last(self) -> HopResponse | None:
        return self.hops[-1] if self.hops else None


AdmitHop = Callable[[str, str], Awaitable[ChainEnd | None]]
HostSlot = Callable[[str], AbstractAsyncContextManager[object]]
KeepBody = Callable[[str | None, bytes], bool]


def _now() -> datetime:
    return datetime.now(UTC)


async def fetch_hop(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    retry: RetryPolicy,
    guard: AddressGuard | None = None,
    slot: HostSlot | None = None,
    keep_body: KeepBody | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    deadline_s: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> HopResponse:
    """GET one URL (no redirect following), with retries; never raises for network trouble."""
    fetched_at = _now()
    if guard is not None:
        try:
            await guard.check_url(url)
        except (AddressRefused, HostUnresolvable) as exc:
            return _failed(url, fetched_at, error_kind(exc), str(exc))
    attempts = 0
    request_headers = {"Accept": ACCEPT, **(headers or {})}

    async def attempt() -> HopResponse:
        nonlocal attempts
        attempts += 1
        if slot is None:
            return await _get(client, url, request_headers, max_bytes, keep_body, deadline_s)
        async with slot(url):
            return await _get(client, url, request_headers, max_bytes, keep_body, deadline_s)

    try:
        hop = await with_retries(
            attempt,
            retry,
            status_of=lambda h: h.status,
            retry_after_of=lambda h: h.headers.get("retry-after"),
            on_attempt=on_attempt,
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes data, never a crash
        kind = error_kind(exc)
        message = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError) and deadline_s is not None and not str(exc):
            message = f"no complete response within {deadline_s:g} s"
        if attempts > 1:
            message = f"{message} (after {attempts} attempts)"
        return _failed(url, fetched_at, kind, message, attempts)
    error = None
    kind = None
    if hop.status is not None and is_retryable_status(hop.status) and attempts > 1:
        kind = "retries_exhausted"
        error = f"HTTP {hop.status} after {attempts} attempts"
    return HopResponse(
        url=url,
        status=hop.status,
        headers=hop.headers,
        content_type=hop.content_type,
        body=hop.body,
        n_bytes=hop.n_bytes,
        truncated=hop.truncated,
        body_complete=hop.body_complete,
        response_ms=hop.response_ms,
        fetched_at=fetched_at,
        error_kind=kind,
        error=error,
        attempts=attempts,
    )


def _failed(
    url: str, fetched_at: datetime, kind: str, message: str, attempts: int = 0
) -> HopResponse:
    return HopResponse(
        url=url,
        status=None,
        headers={},
        content_type=None,
        body=b"",
        n_bytes=0,
        truncated=False,
        body_complete=False,
        response_ms=None,
        fetched_at=fetched_at,
        error_kind=kind,
        error=message,
        attempts=attempts,
    )


async def _get(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    max_bytes: int,
    keep_body: KeepBody | None,
    deadline_s: float | None,
) -> HopResponse:
    started = time.perf_counter()
    if deadline_s is None:
        return await _get_inner(client, url, headers, max_bytes, keep_body, started)
    # The transport's read timeout bounds each silent gap; the deadline bounds a slow drip.
    async with asyncio.timeout(deadline_s):
        return await _get_inner(client, url, headers, max_bytes, keep_body, started)


async def _get_inner(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    max_bytes: int,
    keep_body: KeepBody | None,
    started: float,
) -> HopResponse:
    request = client.build_request("GET", url, headers=headers)
    response = await client.send(request, stream=True)
    try:
        resp_headers = dict(response.headers.items())
        content_type = resp_headers.get("content-type")
        chunks: list[bytes] = []
        size = 0
        truncated = False
        complete = True
        decided = keep_body is None
        async for chunk in response.aiter_bytes():
            if not chunk:
                continue
            if size + len(chunk) > max_bytes:
                chunks.append(chunk[: max_bytes - size])
                size = max_bytes
                truncated = True
                complete = False
                break
            chunks.append(chunk)
            size += len(chunk)
            if not decided:
                decided = True
                if not keep_body(content_type, chunk):  # type: ignore[misc]
                    # Not worth reading (not HTML): the size is what the server announced.
                    complete = False
                    declared = resp_headers.get("content-length", "")
                    if declared.isdigit():
                        size = int(declared)
                    break
        body = b"".join(chunks)
    finally:
        await response.aclose()
    return HopResponse(
        url=url,
        status=response.status_code,
        headers=resp_headers,
        content_type=content_type,
        body=body,
        n_bytes=size,
        truncated=truncated,
        body_complete=complete,
        response_ms=(time.perf_counter() - started) * 1000.0,
        fetched_at=_now(),
    )


async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_redirects: int,
    max_bytes: int,
    retry: RetryPolicy,
    policy: UrlPolicy = DEFAULT_POLICY,
    guard: AddressGuard | None = None,
    admit: AdmitHop | None = None,
    slot: HostSlot | None = None,
    keep_body: KeepBody | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    deadline_s: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> FetchResult:
    """Follow `url` hop by hop. The chain ends at a final response, an error, a loop, the
    redirect limit, an invalid Location, or wherever `admit` says (out of scope, already seen).
    """
    result = FetchResult(url=url)
    visited = {url}
    current = url
    while True:
        hop = await fetch_hop(
            client,
            current,
            max_bytes=max_bytes,
            retry=retry,
            guard=guard,
            slot=slot,
            keep_body=keep_body,
            on_attempt=on_attempt,
            deadline_s=deadline_s,
            headers=headers,
        )
        location = hop.headers.get("location") if hop.status in REDIRECT_STATUSES else None
        if not location:
            result.hops.append(hop)
            if hop.error_kind is not None:
                result.stop_reason = hop.error_kind
                result.stop_message = hop.error
            return result
        try:
            target = normalize_url(location, current, policy)
        except InvalidURL as exc:
            result.hops.append(hop)
            result.stop_reason = "bad_redirect"
            result.stop_message = f"invalid Location {location!r}: {exc}"
            return result
        result.hops.append(_with_location(hop, target))
        if target in visited:
            result.tail = ((target, _status_in(result, target)),)
            result.stop_reason = "redirect_loop"
            path = " -> ".join([h.url for h in result.hops] + [target])
            result.stop_message = f"redirect loop: {path}"
            return result
        if len(result.hops) > max_redirects:
            result.tail = ((target, None),)
            result.stop_reason = "too_many_redirects"
            result.stop_message = f"more than {max_redirects} redirects"
            return result
        if admit is not None:
            end = await admit(target, current)
            if end is not None:
                result.tail = end.chain
                result.stop_reason = end.reason
                result.stop_message = end.message
                return result
        visited.add(target)
        current = target


def _with_location(hop: HopResponse, target: str) -> HopResponse:
    return replace(hop, location=target)


def _status_in(result: FetchResult, url: str) -> int | None:
    for hop in result.hops:
        if hop.url == url:
            return hop.status
    return None


class HostGate:
    """Per-host politeness: at most `limit` requests at once, starts spaced by `delay_s`.

    Both knobs only ever tighten during a crawl (the auto-throttle halves and doubles them), so
    waiters are simply re-checked whenever a slot frees up.
    """

    def __init__(self, limit: int, delay_s: float = 0.0) -> None:
        self.limit = max(1, limit)
        self.delay_s = delay_s
        self.active = 0
        self._next_start = 0.0
        self._waiters: list[asyncio.Future[None]] = []

    async def _acquire(self) -> None:
        while self.active >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.active += 1
        if self.delay_s > 0:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self.delay_s
            if start > now:
                try:
                    await asyncio.sleep(start - now)
                except BaseException:
                    self._release()
                    raise

    def _release(self) -> None:
        self.active -= 1
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break

    def slot(self) -> _GateSlot:
        return _GateSlot(self)


class _GateSlot:
    __slots__ = ("_gate",)

    def __init__(self, gate: HostGate) -> None:
        self._gate = gate

    async def __aenter__(self) -> None:
        await self._gate._acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._gate._release()


class ErrorWindow:
    """Error rate over the last `size` responses, for the auto-throttle.

    `record` returns the rate when a full window reaches `threshold`, and starts a new window
    then, so each slowdown is judged on responses that came after it.
    """

    def __init__(self, size: int, threshold: float) -> None:
        self.size = size
        self.threshold = threshold
        self._window: deque[bool] = deque(maxlen=size)
        self._errors = 0

    def record(self, is_error: bool) -> float | None:
        window = self._window
        if len(window) == self.size:
            self._errors -= window[0]
        window.append(is_error)
        self._errors += is_error
        if len(window) < self.size:
            return None
        rate = self._errors / self.size
        if rate < self.threshold:
            return None
        window.clear()
        self._errors = 0
        return rate
