"""robots.txt through our robots layer: real-world fixtures (answers checked by hand against
RFC 9309 and Google's parser) and the RFC 9309 status rules over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ingest.config import CrawlSettings
from ingest.crawl.robots import (
    ROBOTS_MAX_PARSE_BYTES,
    RobotsCache,
    decode_robots,
    fetch_robots,
    parse_robots,
)
from ingest.http import AddressGuard, RetryPolicy, make_async_client
from tests.servers import Reply, TestServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "robots"
SITE = "http://example.com"
US = "linkwarehouse"


def rules(name: str):
    return parse_robots((FIXTURES / name).read_bytes(), SITE + "/robots.txt")


@pytest.mark.parametrize(
    ("fixture", "agent", "path", "allowed"),
    [
        # RFC 9309 5.1: '*' group, longest match wins (Allow /publications/ beats *.gif$).
        ("crawler-commons__rfc9309-example-simple-robots.txt", US, "/example/page.html", False),
        ("crawler-commons__rfc9309-example-simple-robots.txt", US, "/publications/a.gif", True),
        ("crawler-commons__rfc9309-example-simple-robots.txt", US, "/foo.gif", False),
        ("crawler-commons__rfc9309-example-simple-robots.txt", US, "/other", True),
        ("crawler-commons__rfc9309-example-simple-robots.txt", "foobot", "/other", False),
        (
            "crawler-commons__rfc9309-example-simple-robots.txt",
            "foobot",
            "/example/page.html",
            True,
        ),
        (
            "crawler-commons__rfc9309-example-simple-robots.txt",
            "bazbot",
            "/example/page.html",
            False,
        ),
        (
            "crawler-commons__rfc9309-example-simple-robots.txt",
            "quxbot",
            "/example/page.html",
            True,
        ),
        # Two 'testy' groups merge; Allow /foo/bar (8 chars) beats Disallow /foo/b* (7).
        ("crawler-commons__precedence-of-rules.txt", "testy", "/foo/bar", True),
        ("crawler-commons__precedence-of-rules.txt", "testy", "/foo/baz", False),
        ("crawler-commons__precedence-of-rules.txt", "testy", "/other", True),
        ("crawler-commons__precedence-of-rules.txt", "wget", "/other", False),  # /* beats /
        ("crawler-commons__precedence-of-rules.txt", "wget", "/index.html", True),
        # Per-agent group after a UTF-8 BOM; '*' for everybody else.
        ("protego__mlb.mlb.com.robots.txt", "truveo", "/", False),
        ("protego__mlb.mlb.com.robots.txt", US, "/lookup/x", False),
        ("protego__mlb.mlb.com.robots.txt", US, "/news/", True),
        # CRLF file, a specific group for agent "008".
        ("protego__www.europarl.europa.eu.robots.txt", "008", "/portal/x", True),
        ("protego__www.europarl.europa.eu.robots.txt", "008", "/other", False),
        ("protego__www.europarl.europa.eu.robots.txt", US, "/calendar/", False),
        # Google-only group: $ anchors and wildcards.
        ("advertools__robots.txt", "Googlebot", "/dont_crawl", False),
        ("advertools__robots.txt", "Googlebot", "/page.php", False),
        ("advertools__robots.txt", "Googlebot", "/app.js", True),
        ("advertools__robots.txt", US, "/page.php", True),
        # Two '*' groups (empty Disallow, Allow /) merge to allow-all.
        ("protego__10minutemail.com.robots.txt", US, "/anything", True),
        # Empty file, and an HTML page served as robots.txt: no rules.
        ("protego__avaaz.org.robots.txt", US, "/anything", True),
        ("protego__www.bjtu.edu.cn.robots.txt", US, "/anything", True),
        # Typos and missing colons Google's parser accepts (we follow Google).
        ("crawler-commons__directive-typos-robots.txt", "bot1", "/dissalow/", False),
        ("crawler-commons__directive-typos-robots.txt", "bot1", "/desallow/", True),
        ("crawler-commons__directive-typos-robots.txt", "bot2", "/useragent/", False),
        ("crawler-commons__directive-typos-robots.txt", "bot3", "/useg-agent/", True),
        ("crawler-commons__directive-typos-robots.txt", "bot4", "/useragent-no-colon/", False),
        ("protego__www.wmtransfer.com.robots.txt", US, "/include/x", False),
        ("protego__www.birminghammail.co.uk.robots.txt", "semetrical", "/x", False),
        ("protego__www.birminghammail.co.uk.robots.txt", US, "/x", True),
        ("protego__www.24hourfitness.com.robots.txt", US, "/a/?cm_mmc=1", False),
        ("protego__www.24hourfitness.com.robots.txt", US, "/a/", True),
    ],
)
def test_can_fetch_answers_match_the_hand_checked_ones(
    fixture: str, agent: str, path: str, allowed: bool
) -> None:
    assert rules(fixture).can_fetch(SITE + path, agent) is allowed


@pytest.mark.parametrize(
    "fixture",
    [
        "crawler-commons__robots-with-utf8-bom.txt",
        "crawler-commons__robots-with-utf16le-bom.txt",
    ],
)
def test_a_bom_does_not_hide_the_first_group(fixture: str) -> None:
    robots = rules(fixture)
    assert robots.can_fetch(SITE + "/login.aspx", US) is False
    assert robots.can_fetch(SITE + "/a/output/print", US) is False
    assert robots.can_fetch(SITE + "/news", US) is True
    assert robots.can_googlebot_fetch(SITE + "/profile") is False
    assert robots.sitemaps == ("http://www.newsweek.com/sitemap_index.xml",)


def test_utf16_files_with_crlf_and_a_leading_sitemap_parse() -> None:
    usps = rules("protego__store.usps.com.robots.txt")
    assert usps.can_fetch(SITE + "/store/cart/", US) is False
    assert usps.can_fetch(SITE + "/store/product/1", US) is True
    assert usps.sitemaps == ("https://store.usps.com/store/siteindex.xml",)
    vue = rules("protego__www.myvue.com.robots.txt")
    assert vue.can_fetch(SITE + "/login-now", US) is False
    assert vue.sitemaps == ("https://www.myvue.com/sitemap.xml",)


def test_decode_robots_strips_boms() -> None:
    assert decode_robots(b"\xef\xbb\xbfUser-agent: *").startswith("User-agent")
    assert decode_robots("User-agent: *".encode("utf-16")).startswith("User-agent")
    assert decode_robots("User-agent: *".encode("utf-16-be")[0:0] + b"\xfe\xff\x00U").startswith(
        "U"
    )


def test_crawl_delay_is_per_agent() -> None:
    mlb = rules("protego__mlb.mlb.com.robots.txt")
    assert mlb.crawl_delay("msnbot") == 6.0
    assert mlb.crawl_delay("YahooSeeker") == 10.0
    assert mlb.crawl_delay(US) is None
    assert rules("protego__www.europarl.europa.eu.robots.txt").crawl_delay("008") == 3.0
    assert rules("crawler-commons__dos-line-endings.txt").crawl_delay(US) == 1.0
    assert rules("protego__www.birminghammail.co.uk.robots.txt").crawl_delay(US) == 10.0
    merged = rules("crawler-commons__crawl-delay-group-merging.txt")
    assert merged.crawl_delay("mybot") == 10.0
    assert merged.crawl_delay("yourbot") is None


@pytest.mark.xfail(
    strict=True,
    reason="protego ends a user-agent list at Crawl-delay; RFC 9309 2.2.4 says other records "
    "must not terminate a group, so mybot should share yourbot's Disallow: /private/",
)
def test_crawl_delay_does_not_split_a_group() -> None:
    merged = rules("crawler-commons__crawl-delay-group-merging.txt")
    assert merged.can_fetch(SITE + "/private/x", "mybot") is False


def test_sitemap_lines_are_absolute_deduplicated_and_keep_their_case() -> None:
    assert rules("crawler-commons__relative-sitemap-robots.txt").sitemaps == (
        "http://example.com/sitemap.xml",
    )
    assert rules("crawler-commons__sitemap-robots.txt").sitemaps == (
        "http://domain.com/sitemap.xml",
        "http://domain.com/dir/MixedCased-sitemap.xml",
    )
    assert rules("protego__10minutemail.com.robots.txt").sitemaps == (
        "https://10minutemail.com/sitemap.xml",
    )


def test_a_file_over_500_kib_is_flagged_with_its_size() -> None:
    big = rules("protego__go.com.robots.txt")
    assert big.size_bytes == 594_291 > ROBOTS_MAX_PARSE_BYTES
    assert big.oversized is True
    small = rules("advertools__robots.txt")
    assert small.size_bytes == 193
    assert small.oversized is False


def test_rules_past_500_kib_are_ignored() -> None:
    body = b"User-agent: *\nDisallow: /early/\n" + b"# padding\n" * 52_000 + b"Disallow: /late/\n"
    robots = parse_robots(body, SITE + "/robots.txt")
    assert robots.oversized
    assert robots.can_fetch(SITE + "/early/x", US) is False
    assert robots.can_fetch(SITE + "/late/x", US) is True


def test_robots_txt_itself_is_always_allowed() -> None:
    robots = parse_robots(b"User-agent: *\nDisallow: /\n", SITE + "/robots.txt")
    assert robots.can_fetch(SITE + "/robots.txt", US)
    assert not robots.can_fetch(SITE + "/", US)


# -- over HTTP: RFC 9309 status handling ---------------------------------------------------------

SETTINGS = CrawlSettings(allow_private=True, timeout_s=5)
FAST = RetryPolicy(retries=1, backoff_base_s=0.0, backoff_max_s=0.0)


async def _fetch(server: TestServer, retry: RetryPolicy = FAST):
    client = make_async_client(SETTINGS)
    try:
        return await fetch_robots(client, server.base_url, retry=retry)
    finally:
        await client.aclose()


def test_a_served_robots_txt_is_parsed_with_its_sitemaps() -> None:
    body = (FIXTURES / "advertools__robots.txt").read_bytes()
    with TestServer({"/robots.txt": Reply(body=body, content_type="text/plain")}) as server:
        robots = asyncio.run(_fetch(server))
    assert robots.outcome == "parsed"
    assert robots.status == 200
    assert robots.size_bytes == len(body)
    assert not robots.can_googlebot_fetch(server.url("/dont_crawl"))


def test_a_4xx_robots_txt_allows_everything() -> None:
    with TestServer({"/robots.txt": Reply(404, b"nope")}) as server:
        robots = asyncio.run(_fetch(server))
    assert robots.outcome == "unavailable"
    assert robots.status == 404
    assert robots.can_fetch(server.url("/private"), US)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_5xx_or_429_robots_txt_disallows_everything_after_retries(status: int) -> None:
    with TestServer({"/robots.txt": Reply(status, b"busy")}) as server:
        robots = asyncio.run(_fetch(server))
        assert server.count("/robots.txt") == 2  # one retry
    assert robots.outcome == "unreachable"
    assert robots.status == status
    assert not robots.can_fetch(server.url("/"), US)
    assert "disallowed" in (robots.error or "")


def test_an_unreachable_host_disallows_everything() -> None:
    server = TestServer()
    base = server.base_url
    server.stop()  # the port is now closed: connection refused
    client_settings = CrawlSettings(allow_private=True, timeout_s=2)

    async def go():
        client = make_async_client(client_settings)
        try:
            return await fetch_robots(client, base, retry=FAST)
        finally:
            await client.aclose()

    robots = asyncio.run(go())
    assert robots.outcome == "unreachable"
    assert not robots.can_fetch(base + "/", US)
    assert robots.error


def test_redirects_are_followed_to_the_real_file() -> None:
    routes = {
        "/robots.txt": Reply(301, headers={"Location": "/real-robots.txt"}),
        "/real-robots.txt": Reply(body=b"User-agent: *\nDisallow: /x\n", content_type="text/plain"),
    }
    with TestServer(routes) as server:
        robots = asyncio.run(_fetch(server))
    assert robots.outcome == "parsed"
    assert robots.final_url == server.url("/real-robots.txt")
    assert not robots.can_fetch(server.url("/x"), US)


def test_a_refused_address_is_recorded_without_a_request() -> None:
    with TestServer({"/robots.txt": Reply(body=b"")}) as server:

        async def go():
            client = make_async_client(CrawlSettings(allow_private=False))
            try:
                return await fetch_robots(
                    client, server.base_url, retry=FAST, guard=AddressGuard(allow_private=False)
                )
            finally:
                await client.aclose()

        robots = asyncio.run(go())
        assert server.count("/robots.txt") == 0
    assert robots.outcome == "refused"
    assert not robots.can_fetch(server.url("/"), US)


def test_the_cache_fetches_each_origin_once_for_concurrent_callers() -> None:
    body = b"User-agent: *\nCrawl-delay: 2\n"
    with TestServer({"/robots.txt": Reply(body=body, delay_s=0.1)}) as server:

        async def go():
            client = make_async_client(SETTINGS)
            loaded = []
            cache = RobotsCache(client, retry=FAST, on_loaded=loaded.append)
            try:
                results = await asyncio.gather(
                    *(cache.get(server.url(f"/p{i}")) for i in range(10))
                )
            finally:
                await client.aclose()
            return results, loaded

        results, loaded = asyncio.run(go())
        assert server.count("/robots.txt") == 1
    assert len({id(r) for r in results}) == 1
    assert len(loaded) == 1
    assert loaded[0].crawl_delay(US) == 2.0
