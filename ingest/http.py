"""The HTTP client every source shares: timeouts, user agent, retries with backoff, address guard.

Why one module: the crawler, the sitemap fetcher and the Search Console client all talk to
servers we do not control, so they need the same politeness (user agent, backoff honouring
`Retry-After`) and the same safety net. The address guard matters because URLs come from the
pages themselves: a link or redirect to `http://169.254.169.254/` (cloud metadata) or to an
intranet address must never be fetched from the machine that runs the crawl.

Transport: httpx's own transport costs about 3.5 ms of CPU per request on loopback while the
`httpx-aiohttp` transport costs about 0.4 ms (ARCHITECTURE.md), so aiohttp is the default and the
plain httpx transport stays selectable as a fallback. Both transports enforce the guard at
connect time too (resolver / network backend), so a DNS answer that changes between the check and
the connection (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import logging
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

import httpx

log = logging.getLogger(__name__)

TransportName = Literal["aiohttp", "httpx"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_USER_AGENT = "linkwarehouse/0.1 (+https://github.com/linkwarehouse/linkwarehouse)"

# Cloud instance-metadata endpoints. They stay refused even with allow_private: a crawler never
# has a reason to read them, and reading them is how SSRF turns into stolen credentials. Only an
# explicit `allowed_addresses` entry lets one through.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS VPC DNS
        "169.254.169.123",  # AWS time sync
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server (a public address, hence listed)
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
METADATA_HOSTNAMES: frozenset[str] = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(OSError):
    """The host resolves to (or is) an address the guard refuses; no request was sent.

    An OSError so that the aiohttp resolver and the httpcore backend can raise it from inside the
    connection machinery; callers should catch it before generic connection errors.
    """

    def __init__(self, host: str, address: str | None, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        where = f"{host} ({address})" if address and address != host else host
        super().__init__(f"refused to connect to {where}: {reason} address")


class HostUnresolvable(OSError):
    """DNS gave no address for the host."""


def refusal_reason(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why `ip` must not be contacted, or None when it may be.

    Multicast and unspecified addresses are refused even with allow_private: no web server lives
    there, and `0.0.0.0` quietly means "this machine" on Linux.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal_reason(embedded, allow_private=allow_private)
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if allow_private:
        return None
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "non-global"
    return None


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


class AddressGuard:
    """Resolves hosts and refuses the ones that point inside the network (see module docstring).

    Resolutions are cached per host for `cache_ttl_s` so the check costs one lookup per host and
    crawl, not one per request.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allowed_addresses: Iterable[str] = (),
        cache_ttl_s: float = 60.0,
    ) -> None:
        self.allow_private = allow_private
        self.allowed_addresses = frozenset(ipaddress.ip_address(a) for a in allowed_addresses)
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, tuple[str, ...] | AddressRefused | OSError]] = {}
        self._verdicts: dict[str, tuple[float, OSError | None]] = {}

    def check_address(self, ip: IPAddress | str, host: str | None = None) -> None:
        """Raise AddressRefused unless `ip` may be contacted."""
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        if addr in self.allowed_addresses:
            return
        reason = refusal_reason(addr, allow_private=self.allow_private)
        if reason is not None:
            raise AddressRefused(host or str(addr), str(addr), reason)

    def check_hostname(self, host: str) -> None:
        """Refuse metadata host names before any DNS lookup (they may resolve anywhere)."""
        name = host.lower().rstrip(".")
        if name in METADATA_HOSTNAMES:
            raise AddressRefused(host, None, "metadata")

    async def resolve(self, host: str, port: int = 0) -> tuple[str, ...]:
        """Allowed addresses of `host`; raises AddressRefused if any answer is refused.

        Refusing when *any* answer is bad (not only when all are) keeps a DNS name that mixes a
        public and a private address from being used as a pivot.
        """
        host = host.strip("[]")
        ip = _parse_ip(host)
        if ip is not None:
            self.check_address(ip, host)
            return (str(ip),)
        self.check_hostname(host)
        now = time.monotonic()
        cached = self._cache.get(host)
        if cached is not None and cached[0] > now:
            if isinstance(cached[1], OSError):
                raise cached[1]
            return cached[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise HostUnresolvable(f"cannot resolve {host}: {exc}") from exc
        addresses: list[str] = []
        try:
            for info in infos:
                addr = str(info[4][0]).split("%", 1)[0]
                self.check_address(addr, host)
                if addr not in addresses:
                    addresses.append(addr)
        except AddressRefused as exc:
            self._cache[host] = (now + self._ttl, exc)
            raise
        if not addresses:
            raise HostUnresolvable(f"cannot resolve {host}: no addresses")
        result = tuple(addresses)
        self._cache[host] = (now + self._ttl, result)
        return result

    async def check_url(self, url: str | httpx.URL) -> None:
        """Raise AddressRefused / HostUnresolvable before a request to `url` is sent.

        Called for every request of a crawl, so the verdict is memoized per netloc (the resolve
        cache below it still expires) and plain strings are split without a URL parser.
        """
        if isinstance(url, httpx.URL):
            await self.resolve(url.host, url.port or (443 if url.scheme == "https" else 80))
            return
        scheme, _, rest = url.partition("://")
        netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
        verdict = self._verdicts.get(netloc)
        now = time.monotonic()
        if verdict is not None and verdict[0] > now:
            if verdict[1] is not None:
                raise verdict[1]
            return
        host, port = _split_netloc(netloc, 443 if scheme.lower() == "https" else 80)
        try:
            await self.resolve(host, port)
        except (AddressRefused, HostUnresolvable) as exc:
            self._verdicts[netloc] = (now + self._ttl, exc)
            raise
        self._verdicts[netloc] = (now + self._ttl, None)


def _split_netloc(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, _, tail = netloc[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port = netloc.partition(":")
    return host, int(port) if port.isdigit() else default_port


# --------------------------------------------------------------------------------------------
# Connect-time enforcement for both transports.


def _aiohttp_resolver(guard: AddressGuard) -> Any:
    from aiohttp.abc import AbstractResolver
    from aiohttp.resolver import DefaultResolver

    class GuardedResolver(AbstractResolver):
        """aiohttp resolver that drops nothing silently: a refused answer fails the connection."""

        def __init__(self) -> None:
            self._inner = DefaultResolver()

        async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> Any:
            guard.check_hostname(host)
            results = await self._inner.resolve(host, port, family)
            for result in results:
                guard.check_address(result["host"], host)
            return results

        async def close(self) -> None:
            await self._inner.close()

    return GuardedResolver()


class _GuardedBackend:
    """httpcore network backend that resolves through the guard and connects to the checked IP.

    TLS still uses the URL's host name for SNI and certificate checks (httpcore passes the origin
    host to start_tls), so connecting by address changes nothing else.
    """

    def __init__(self, inner: Any, guard: AddressGuard) -> None:
        self._inner = inner
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        import httpcore

        try:
            addresses = await self._guard.resolve(host, port)
        except (AddressRefused, HostUnresolvable) as exc:
            # httpcore only maps its own exceptions; this becomes httpx.ConnectError (cause kept).
            raise httpcore.ConnectError(str(exc)) from exc
        return await self._inner.connect_tcp(
            addresses[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# --------------------------------------------------------------------------------------------
# Client factory.


class ClientSettings(Protocol):
    """What the factory reads; CrawlSettings satisfies it, other sources can pass their own."""

    user_agent: str
    timeout_s: float
    allow_private: bool


def make_async_client(
    settings: ClientSettings,
    transport: TransportName | None = None,
    *,
    guard: AddressGuard | None = None,
    max_connections: int = 100,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """An httpx.AsyncClient with our timeouts, user agent, no automatic redirects and the guard.

    `transport` defaults to `settings.transport` when present, else aiohttp. Redirects are never
    followed automatically: the crawler records every hop, and each hop must pass the guard.
    """
    name: TransportName = transport or getattr(settings, "transport", None) or "aiohttp"
    guard = guard or AddressGuard(allow_private=settings.allow_private)
    timeout = httpx.Timeout(settings.timeout_s)
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )
    ssl_context = _ssl_context()
    base_headers = {"User-Agent": settings.user_agent or DEFAULT_USER_AGENT}
    base_headers.update(headers or {})
    http_transport: httpx.AsyncBaseTransport | None = None
    if name == "aiohttp":
        http_transport = _aiohttp_transport(guard, ssl_context, max_connections)
        if http_transport is None:
            name = "httpx"
    if http_transport is None:
        default = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits, retries=0)
        pool = getattr(default, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _GuardedBackend(pool._network_backend, guard)
        else:  # pragma: no cover - only if httpcore changes its internals
            log.warning("httpx transport without connect-time address guard")
        http_transport = default
    client = httpx.AsyncClient(
        transport=http_transport,
        timeout=timeout,
        follow_redirects=False,
        headers=base_headers,
        trust_env=False,
    )
    # Remembered on the client so helpers (request_with_retries, the crawler's summary) can find
    # which transport and guard it uses without threading them through every call.
    client._lw_transport_name = name  # type: ignore[attr-defined]
    client._lw_guard = guard  # type: ignore[attr-defined]
    return client


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """System trust store, built once: loading CA certificates costs 0.1-0.5 s per context."""
    return ssl.create_default_context()


def client_transport_name(client: httpx.AsyncClient) -> str:
    """'aiohttp' or 'httpx': the transport actually in use (after any fallback)."""
    return getattr(client, "_lw_transport_name", "httpx")


def client_guard(client: httpx.AsyncClient) -> AddressGuard | None:
    """The AddressGuard a client from make_async_client enforces."""
    return getattr(client, "_lw_guard", None)


def _aiohttp_transport(
    guard: AddressGuard, ssl_context: ssl.SSLContext, max_connections: int
) -> httpx.AsyncBaseTransport | None:
    try:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport
    except ImportError as exc:  # pragma: no cover - both are dependencies
        log.warning("aiohttp transport unavailable (%s); using httpx's own transport", exc)
        return None

    def session() -> aiohttp.ClientSession:
        # Created lazily inside the running loop (aiohttp binds a session to its loop).
        connector = aiohttp.TCPConnector(
            limit=max_connections,
            limit_per_host=0,
            resolver=_aiohttp_resolver(guard),
            ssl=ssl_context,
            keepalive_timeout=30.0,
            ttl_dns_cache=60,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            # Real sites send long Set-Cookie / CSP headers; aiohttp's 8 KiB default fails them.
            max_line_size=65536,
            max_field_size=65536,
            trust_env=False,
        )

    # `verify` is passed so the transport does not build (and discard) a second SSL context.
    return AiohttpTransport(verify=ssl_context, client=session)


# --------------------------------------------------------------------------------------------
# Retries.

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; `Retry-After` wins when the server sends one."""

    retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Any) -> RetryPolicy:
        return cls(settings.retries, settings.backoff_base_s, settings.backoff_max_s)


def is_retryable_status(status: int) -> bool:
    """429 and 5xx are worth another try; everything else is the server's answer."""
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
        return max(seconds, 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def backoff_delay(
    attempt: int, policy: RetryPolicy, rng: Callable[[], float] = random.random
) -> float:
    """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)]."""
    return rng() * min(policy.backoff_max_s, policy.backoff_base_s * (2**attempt))


def retry_delay(
    attempt: int,
    policy: RetryPolicy,
    retry_after: float | None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Wait before retry number `attempt + 1`: Retry-After if given (capped), else backoff."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.backoff_max_s)
    return backoff_delay(attempt, policy, rng)


def error_kind(exc: BaseException) -> str:
    """Short, stable name of a request failure for error rows and the throttle window.

    The aiohttp transport maps every connection error to httpx.ConnectTimeout, so the original
    exceptions down the `__cause__` chain decide between a timeout and a connection error.
    """
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:
        if isinstance(item, AddressRefused):
            return "address_refused"
        if isinstance(item, HostUnresolvable):
            return "dns_error"
    try:
        import aiohttp
    except ImportError:  # pragma: no cover
        aiohttp = None  # type: ignore[assignment]
    if aiohttp is not None:
        for item in chain:
            if isinstance(item, aiohttp.ClientConnectorError):
                inner = getattr(item, "os_error", None)
                if isinstance(inner, AddressRefused):
                    return "address_refused"
                if isinstance(item, aiohttp.ClientConnectorDNSError):
                    return "dns_error"
                return "connection_error"
            if isinstance(item, aiohttp.ServerTimeoutError):
                return "timeout"
            if isinstance(item, aiohttp.ClientError):
                return "connection_error"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, httpx.DecodingError):
        return "decoding_error"  # a body that does not match its Content-Encoding
    if isinstance(exc, httpx.TransportError | OSError):
        return "connection_error"
    return "error"


def is_retryable_exception(exc: BaseException) -> bool:
    if isinstance(exc, AddressRefused | HostUnresolvable | httpx.UnsupportedProtocol):
        return False
    if error_kind(exc) in ("address_refused", "dns_error"):
        return False
    return isinstance(
        exc, httpx.TransportError | asyncio.TimeoutError | TimeoutError | ConnectionError
    )


@dataclass(frozen=True)
class Attempt:
    """One try, reported to `on_attempt` (the crawler's throttle counts these)."""

    number: int
    status: int | None
    error: str | None  # error kind for exceptions
    is_error: bool  # 429 / 5xx / timeout / connection error
    will_retry: bool
    wait_s: float  # delay before the next try (0 when none follows)


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    status_of: Callable[[T], int | None],
    retry_after_of: Callable[[T], str | None] = lambda _: None,
    discard: Callable[[T], Awaitable[None]] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """Call `attempt` until it gives a non-retryable answer or `policy.retries` retries are spent.

    A retryable status on the last try is returned as is (the caller records the status); a
    retryable exception on the last try is raised. `discard` releases a response that will be
    retried (closing its connection).
    """
    n = 0
    while True:
        try:
            result = await attempt()
        except Exception as exc:
            retry = is_retryable_exception(exc) and n < policy.retries
            wait = retry_delay(n, policy, None, rng) if retry else 0.0
            if on_attempt is not None:
                kind = error_kind(exc)
                is_err = kind in ("timeout", "connection_error", "dns_error")
                on_attempt(Attempt(n, None, kind, is_err, retry, wait))
            if not retry:
                raise
        else:
            status = status_of(result)
            retry = status is not None and is_retryable_status(status) and n < policy.retries
            wait = 0.0
            if retry:
                wait = retry_delay(n, policy, parse_retry_after(retry_after_of(result)), rng)
            if on_attempt is not None:
                is_err = status is not None and is_retryable_status(status)
                on_attempt(Attempt(n, status, None, is_err, retry, wait))
            if not retry:
                return result
            if discard is not None:
                await discard(result)
        n += 1
        if wait > 0:
            await sleep(wait)


async def request_with_retries(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    guard: AddressGuard | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """A whole (read) response with the guard checked first and retries on 429/5xx/network errors.

    For sources that want a plain request (sitemaps, GSC). The crawler uses fetch.py instead,
    which streams with a size cap and follows redirects hop by hop.
    """
    guard = guard or client_guard(client)
    if guard is not None:
        await guard.check_url(url)

    async def once() -> httpx.Response:
        response = await client.request(method, url, **kwargs)
        await response.aread()
        return response

    async def close(response: httpx.Response) -> None:
        await response.aclose()

    return await with_retries(
        once,
        policy,
        status_of=lambda r: r.status_code,
        retry_after_of=lambda r: r.headers.get("retry-after"),
        discard=close,
        on_attempt=on_attempt,
    )
