"""The robots.txt record: fetch status per RFC 9309, size over Google's 500 KiB flagged, the
sitemaps it lists (absolute, relative, protocol-relative, duplicated), and verdicts for our user
agent and Googlebot, all on top of the crawler's protego layer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from ingest.http import RetryPolicy
from ingest.sitemaps.robots import (
    RobotsRecord,
    fetch_robots_record,
    robots_record_from_bytes,
)
from ingest.sitemaps.schema import ROBOTS_SCHEMA

ROBOTS = Path(__file__).resolve().parents[1] / "fixtures" / "sitemaps" / "robots"
AGENT = "linkwarehouse"
NO_RETRY = RetryPolicy(retries=0)


def record(name: str, url: str = "https://www.example.com/robots.txt") -> RobotsRecord:
    return robots_record_from_bytes((ROBOTS / name).read_bytes(), url, user_agent=AGENT)


def test_googlebot_and_our_agent_get_their_own_group() -> None:
    r = record("advertools__robots.txt", "https://advertools.readthedocs.io/robots.txt")
    base = "https://advertools.readthedocs.io"
    assert r.sitemaps == ("https://advertools.readthedocs.io/sitemap.xml",)
    assert r.can_fetch(base + "/dont_crawl/page") is True  # '*' group: no Disallow
    assert r.googlebot_can_fetch(base + "/dont_crawl/page") is False
    assert r.googlebot_can_fetch(base + "/index.php") is False
    assert r.googlebot_can_fetch(base + "/app.js") is True
    assert r.verdicts().blocked(base + "/dont_crawl") == (False, True)


def test_real_google_rules_longest_match_wins() -> None:
    r = record("protego__www.google.com.robots.txt", "https://www.google.com/robots.txt")
    assert not r.can_fetch("https://www.google.com/search?q=x")
    assert r.can_fetch("https://www.google.com/search/about")
    assert not r.googlebot_can_fetch("https://www.google.com/m/")
    assert r.googlebot_can_fetch("https://www.google.com/m/finance")
    assert "https://www.google.com/sitemap.xml" in r.sitemaps
    verdicts = r.verdicts()
    for url in ("https://www.google.com/search?q=x", "https://www.google.com/maps/about"):
        assert verdicts.blocked(url) == (not r.can_fetch(url), not r.googlebot_can_fetch(url))


@pytest.mark.parametrize(
    ("name", "robots_url", "sitemaps", "warning"),
    [
        ("crawler-commons__relative-sitemap-robots.txt", "https://www.example.com/robots.txt",
         ("https://www.example.com/sitemap.xml",), "relative_sitemap"),
        ("protego__epson.com.robots.txt", "https://epson.com/robots.txt",
         ("https://epson.com/sitemap.xml",), "relative_sitemap"),
        ("protego__agendaweb.org.robots.txt", "https://www.agendaweb.org/robots.txt",
         ("https://www.agendaweb.org/sitemap.xml",), "relative_sitemap"),
        ("crawler-commons__sitemap-robots-dedup.txt", "http://example.org/robots.txt",
         ("http://example.org/sitemap.xml",), None),
        ("crawler-commons__sitemap-robots.txt", "http://domain.com/robots.txt",
         ("http://domain.com/sitemap.xml", "http://domain.com/dir/MixedCased-sitemap.xml"), None),
        ("protego__store.usps.com.robots.txt", "https://store.usps.com/robots.txt",
         ("https://store.usps.com/store/siteindex.xml",), None),
        ("crawler-commons__robots-with-utf8-bom.txt", "http://www.newsweek.com/robots.txt",
         ("http://www.newsweek.com/sitemap_index.xml",), None),
    ],
)  # fmt: skip
def test_sitemap_lines_are_made_absolute_and_deduplicated(
    name: str, robots_url: str, sitemaps: tuple[str, ...], warning: str | None
) -> None:
    r = record(name, robots_url)
    assert r.sitemaps == sitemaps
    codes = [w.split(":", 1)[0] for w in r.warnings]
    assert codes == ([warning] if warning else [])


def test_byte_order_marks_do_not_hide_the_first_group() -> None:
    newsweek = record(
        "crawler-commons__robots-with-utf8-bom.txt", "http://www.newsweek.com/robots.txt"
    )
    assert not newsweek.can_fetch("http://www.newsweek.com/login.aspx")
    assert newsweek.body is not None and newsweek.body.startswith("User-agent: *")
    r = record("crawler-commons__robots-with-utf16le-bom.txt")
    assert r.body is not None and "User-agent" in r.body
    usps = record("protego__store.usps.com.robots.txt", "https://store.usps.com/robots.txt")
    assert not usps.can_fetch("https://store.usps.com/store/cart/")
    assert usps.can_fetch("https://store.usps.com/store/product/x")


def test_a_file_over_500_kib_is_flagged_and_parsed_only_to_the_limit() -> None:
    r = record("protego__go.com.robots.txt", "https://go.com/robots.txt")
    assert r.rules.oversized and r.rules.size_bytes == 594_291
    assert r.warnings[0].startswith("oversized: 594,291 bytes")
    assert r.body is not None and len(r.body.encode()) <= 500 * 1024


def test_an_html_page_and_an_empty_file_allow_everything() -> None:
    html = record("protego__www.regmovies.com.robots.txt")
    assert [w.split(":", 1)[0] for w in html.warnings] == ["html_body"]
    assert html.can_fetch("https://www.example.com/anything")
    empty = record("protego__avaaz.org.robots.txt")
    assert empty.can_fetch("https://www.example.com/anything") and not empty.warnings
    assert empty.verdicts().blocked("https://www.example.com/x") == (False, False)


def test_the_row_matches_the_landing_schema() -> None:
    row = record("advertools__robots.txt", "https://advertools.readthedocs.io/robots.txt").row()
    assert list(row) == ROBOTS_SCHEMA.names
    assert row["outcome"] == "parsed" and row["status"] == 200 and row["bytes"] == 193
    assert row["is_root_allowed"] and row["is_root_allowed_for_googlebot"]
    assert row["user_agent"] == AGENT


# -- fetched over HTTP (a mock transport: status handling is what is tested here) -----------


def _fetch(handler) -> RobotsRecord:  # noqa: ANN001
    async def run() -> RobotsRecord:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_robots_record(
                client, "https://shop.example", user_agent=AGENT, retry=NO_RETRY
            )

    return asyncio.run(run())


def test_fetched_robots_txt_with_a_redirect_keeps_the_final_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt" and request.url.host == "shop.example":
            return httpx.Response(301, headers={"Location": "https://www.shop.example/robots.txt"})
        body = b"User-agent: *\nDisallow: /cart/\nSitemap: /sitemap.xml\n"
        return httpx.Response(200, content=body, headers={"Content-Type": "text/plain"})

    r = _fetch(handler)
    assert (
        r.rules.outcome == "parsed" and r.rules.final_url == "https://www.shop.example/robots.txt"
    )
    assert r.sitemaps == ("https://www.shop.example/sitemap.xml",)  # relative to the final URL
    assert not r.can_fetch("https://shop.example/cart/")
    assert r.row()["final_url"] == "https://www.shop.example/robots.txt"


@pytest.mark.parametrize(
    ("status", "outcome", "allowed"),
    [(404, "unavailable", True), (403, "unavailable", True), (500, "unreachable", False),
     (429, "unreachable", False)],
)  # fmt: skip
def test_status_decides_per_rfc_9309(status: int, outcome: str, allowed: bool) -> None:
    r = _fetch(lambda request: httpx.Response(status, content=b"nope"))
    assert r.rules.outcome == outcome and r.rules.status == status
    assert r.can_fetch("https://shop.example/p/1/") is allowed
    assert r.googlebot_can_fetch("https://shop.example/p/1/") is allowed
    assert r.verdicts().blocked("https://shop.example/p/1/") == (not allowed, not allowed)
    assert r.body is None and r.row()["is_root_allowed"] is allowed
    if not allowed:
        assert r.warnings[-1].startswith("unreachable:")


def test_an_unreachable_server_disallows_everything() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    r = _fetch(handler)
    assert r.rules.outcome == "unreachable" and r.rules.status is None
    assert not r.can_fetch("https://shop.example/") and "connection refused" in (
        r.rules.error or ""
    )


def test_the_protego_internals_behind_fast_verdicts_are_still_there() -> None:
    """`_has_rules` reads protego internals (no public API says "no rules for this agent"); it
    degrades to always asking protego when they vanish, so only this test notices a change."""
    from protego import Protego

    from ingest.crawl.robots import parse_robots
    from ingest.sitemaps.robots import _has_rules

    text = "User-agent: strict\nDisallow: /x\n\nUser-agent: slow\nCrawl-delay: 3\n"
    parser = Protego.parse(text)
    strict = parser._get_matching_rule_set("strict")
    assert strict is not None and isinstance(strict._rules, list) and strict._rules
    slow = parser._get_matching_rule_set("slow")
    assert slow is not None and slow._rules == []
    assert parser._get_matching_rule_set("someone-else") is None

    rules = parse_robots(text.encode(), "https://www.example.com/robots.txt")
    assert _has_rules(rules, "strict") is True
    assert _has_rules(rules, "slow") is False  # a group with only Crawl-delay disallows nothing
    assert _has_rules(rules, "someone-else") is False


def test_the_crawler_and_the_record_cut_robots_txt_at_the_same_line() -> None:
    from ingest.crawl.robots import ROBOTS_MAX_PARSE_BYTES, cut_at_line

    assert cut_at_line(b"a\nbc", 3) == b"a\n"  # never half a directive
    assert cut_at_line(b"abc", 2) == b"ab"  # no line break at all: the raw cut
    line = b"Disallow: /private\n"
    body = b"User-agent: *\n" + line * (ROBOTS_MAX_PARSE_BYTES // len(line) + 10)
    record = robots_record_from_bytes(body, "https://www.example.com/robots.txt", user_agent=AGENT)
    assert record.body is not None
    assert record.body.encode() == cut_at_line(body, ROBOTS_MAX_PARSE_BYTES)
    assert record.body.endswith("\n")
