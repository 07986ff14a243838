"""The shared client: address guard, both transports, retries with backoff and Retry-After."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from ingest.config import CrawlSettings
from ingest.http import (
    AddressGuard,
    AddressRefused,
    Attempt,
    RetryPolicy,
    backoff_delay,
    client_transport_name,
    error_kind,
    make_async_client,
    parse_retry_after,
    refusal_reason,
    request_with_retries,
    retry_delay,
    with_retries,
)
from tests.servers import Reply, TestServer

TRANSPORTS = ["aiohttp", "httpx"]


# -- address guard --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason", "reason_with_allow_private"),
    [
        ("8.8.8.8", None, None),
        ("2606:4700:4700::1111", None, None),
        ("127.0.0.1", "loopback", None),
        ("::1", "loopback", None),
        ("10.1.2.3", "private", None),
        ("192.168.0.1", "private", None),
        ("172.16.5.4", "private", None),
        ("fd12:3456::1", "private", None),  # unique local
        ("100.64.0.1", "non-global", None),  # carrier-grade NAT
        ("169.254.1.1", "link-local", None),
        ("fe80::1", "link-local", None),
        # Metadata endpoints stay refused even with allow_private.
        ("169.254.169.254", "metadata", "metadata"),
        ("fd00:ec2::254", "metadata", "metadata"),
        ("100.100.100.200", "metadata", "metadata"),
        # Embedded IPv4 is checked as IPv4.
        ("::ffff:169.254.169.254", "metadata", "metadata"),
        ("::ffff:127.0.0.1", "loopback", None),
        ("64:ff9b::a9fe:a9fe", "metadata", "metadata"),  # NAT64 of 169.254.169.254
        # Never a web server: refused either way.
        ("0.0.0.0", "unspecified", "unspecified"),
        ("::", "unspecified", "unspecified"),
        ("224.0.0.1", "multicast", "multicast"),
        ("ff02::1", "multicast", "multicast"),
    ],
)
def test_refusal_reasons(
    address: str, reason: str | None, reason_with_allow_private: str | None
) -> None:
    ip = ipaddress.ip_address(address)
    assert refusal_reason(ip, allow_private=False) == reason
    assert refusal_reason(ip, allow_private=True) == reason_with_allow_private


def test_metadata_host_names_are_refused_before_any_dns_lookup() -> None:
    guard = AddressGuard(allow_private=True)
    for host in ("metadata.google.internal", "METADATA.google.internal.", "metadata"):
        with pytest.raises(AddressRefused, match="metadata"):
            asyncio.run(guard.resolve(host, 80))


def test_a_name_resolving_to_loopback_is_refused_unless_private_is_allowed() -> None:
    with pytest.raises(AddressRefused, match="loopback"):
        asyncio.run(AddressGuard().check_url("http://localhost:8080/"))
    assert "127.0.0.1" in asyncio.run(AddressGuard(allow_private=True).resolve("localhost", 80))


def test_an_explicitly_listed_address_is_allowed_even_for_metadata() -> None:
    guard = AddressGuard(allowed_addresses=["169.254.169.254"])
    asyncio.run(guard.check_url("http://169.254.169.254/latest/"))
    with pytest.raises(AddressRefused):
        asyncio.run(guard.check_url("http://169.254.170.2/"))


def test_legacy_numeric_ipv4_forms_are_resolved_and_refused() -> None:
    # 2130706433 == 127.0.0.1; getaddrinfo accepts it, so the guard must see through it.
    with pytest.raises(AddressRefused):
        asyncio.run(AddressGuard().check_url("http://2130706433/"))


# -- client factory ---------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_client_sends_our_user_agent_and_never_follows_redirects(transport: str) -> None:
    settings = CrawlSettings(allow_private=True, user_agent="lw-test/1.0")
    routes = {"/r": Reply(302, headers={"Location": "/target"}), "/target": Reply(body=b"ok")}
    with TestServer(routes) as server:

        async def go() -> httpx.Response:
            async with make_async_client(settings, transport) as client:  # type: ignore[arg-type]
                assert client_transport_name(client) == transport
                return await client.get(server.url("/r"))

        response = asyncio.run(go())
        assert response.status_code == 302
        assert server.count("/target") == 0
        assert server.requests[0].headers["user-agent"] == "lw-test/1.0"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_guard_also_holds_at_connect_time(transport: str) -> None:
    """Even a caller that skips the pre-check cannot reach a refused address."""
    with TestServer({"/": Reply(body=b"secret")}) as server:

        async def go() -> None:
            async with make_async_client(CrawlSettings(), transport) as client:  # type: ignore[arg-type]
                await client.get(f"http://localhost:{server.port}/")

        with pytest.raises(httpx.TransportError) as info:
            asyncio.run(go())
        assert error_kind(info.value) == "address_refused"
        assert server.count("/") == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_timeouts_and_refused_connections_get_distinct_kinds(transport: str) -> None:
    settings = CrawlSettings(allow_private=True, timeout_s=0.2)
    with TestServer({"/slow": Reply(body=b"late", delay_s=1.0)}) as server:

        async def slow() -> None:
            async with make_async_client(settings, transport) as client:  # type: ignore[arg-type]
                await client.get(server.url("/slow"))

        with pytest.raises(httpx.TransportError) as info:
            asyncio.run(slow())
        assert error_kind(info.value) == "timeout"
    closed = TestServer()
    closed.stop()

    async def refused() -> None:
        async with make_async_client(settings, transport) as client:  # type: ignore[arg-type]
            await client.get(closed.url("/"))

    with pytest.raises(httpx.TransportError) as info:
        asyncio.run(refused())
    assert error_kind(info.value) == "connection_error"


# -- retries ------------------------------------------------------------------------------------------


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_capped() -> None:
    policy = RetryPolicy(retries=5, backoff_base_s=0.5, backoff_max_s=3.0)
    assert [backoff_delay(n, policy, rng=lambda: 1.0) for n in range(5)] == [
        0.5,
        1.0,
        2.0,
        3.0,
        3.0,
    ]
    assert backoff_delay(3, policy, rng=lambda: 0.0) == 0.0
    # Retry-After wins over backoff but is capped by backoff_max_s.
    assert retry_delay(0, policy, 2.0) == 2.0
    assert retry_delay(0, policy, 3600.0) == 3.0


def test_with_retries_retries_429_and_5xx_honouring_retry_after() -> None:
    answers = [(429, "2"), (503, None), (200, None)]
    sleeps: list[float] = []
    attempts: list[Attempt] = []

    async def attempt() -> tuple[int, str | None]:
        return answers.pop(0)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    result = asyncio.run(
        with_retries(
            attempt,
            RetryPolicy(retries=3, backoff_base_s=0.25, backoff_max_s=10.0),
            status_of=lambda r: r[0],
            retry_after_of=lambda r: r[1],
            on_attempt=attempts.append,
            sleep=sleep,
            rng=lambda: 1.0,
        )
    )
    assert result == (200, None)
    assert sleeps == [2.0, 0.5]  # Retry-After, then backoff for attempt 1
    assert [a.status for a in attempts] == [429, 503, 200]
    assert [a.is_error for a in attempts] == [True, True, False]
    assert [a.will_retry for a in attempts] == [True, True, False]


def test_with_retries_gives_back_the_last_answer_when_retries_run_out() -> None:
    async def attempt() -> int:
        return 503

    async def sleep(seconds: float) -> None:
        pass

    policy = RetryPolicy(retries=2, backoff_base_s=0.0)
    assert asyncio.run(with_retries(attempt, policy, status_of=lambda s: s, sleep=sleep)) == 503


def test_with_retries_does_not_retry_a_refused_address() -> None:
    calls = 0

    async def attempt() -> int:
        nonlocal calls
        calls += 1
        raise AddressRefused("x", "10.0.0.1", "private")

    with pytest.raises(AddressRefused):
        asyncio.run(with_retries(attempt, RetryPolicy(retries=3), status_of=lambda s: s))
    assert calls == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_request_with_retries_gets_through_a_brief_outage(transport: str) -> None:
    replies = iter([Reply(503, b"down"), Reply(502, b"down"), Reply(body=b"up")])
    with TestServer({"/": lambda request: next(replies)}) as server:

        async def go() -> httpx.Response:
            settings = CrawlSettings(allow_private=True)
            async with make_async_client(settings, transport) as client:  # type: ignore[arg-type]
                return await request_with_retries(
                    client, "GET", server.url("/"), policy=RetryPolicy(3, 0.0, 0.0)
                )

        response = asyncio.run(go())
        assert response.status_code == 200
        assert response.content == b"up"
        assert server.count("/") == 3


def test_request_with_retries_checks_the_guard_first() -> None:
    with TestServer({"/": Reply(body=b"x")}) as server:

        async def go() -> None:
            async with make_async_client(CrawlSettings()) as client:
                await request_with_retries(client, "GET", server.url("/"), policy=RetryPolicy())

        with pytest.raises(AddressRefused):
            asyncio.run(go())
        assert server.count("/") == 0
