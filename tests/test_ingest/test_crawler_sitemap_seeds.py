"""The crawler seeding its frontier from the site's sitemaps (crawl.seed_from_sitemaps), against a
real local server: pages only a sitemap knows are fetched and landed as sitemap discoveries,
behind every linked page, without taking the place of link depth or of the start URLs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ingest.config import CrawlSettings, SiteConfig
from ingest.crawl.crawler import SITEMAP_SEED_DEPTH, crawl_site
from tests.servers import Reply, TestServer, links_page

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def sitemap(*locs: str) -> Reply:
    rows = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    body = f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{rows}</urlset>'
    return Reply(body=body.encode(), content_type="application/xml")


def site_routes() -> dict[str, Any]:
    robots = "User-agent: *\nDisallow: /private\n\nSitemap: /sitemap.xml\n"
    return {
        "/robots.txt": Reply(body=robots.encode(), content_type="text/plain"),
        "/": links_page("/linked"),
        "/linked": links_page("/", "/deep"),
        "/deep": links_page("/"),
        # Known only from the sitemap; its own link leads to a page nothing else names.
        "/orphan": links_page("/behind-orphan"),
        "/behind-orphan": links_page(),
        "/private/only-in-sitemap": links_page(),
        "/excluded/only-in-sitemap": links_page(),
    }


def crawl(server: TestServer, run_dir: Path, **crawl_settings: Any) -> dict[str, dict]:
    settings = {"allow_private": True, "timeout_s": 5, "backoff_base_s": 0.0, **crawl_settings}
    site = SiteConfig(id="t", start_urls=(server.url("/"),), crawl=CrawlSettings(**settings))
    crawl_site(site, run_dir)
    return {p["url"]: p for p in pq.read_table(run_dir / "pages.parquet").to_pylist()}


def test_a_page_only_the_sitemap_lists_is_crawled_and_landed_as_a_sitemap_discovery(
    tmp_path: Path,
) -> None:
    with TestServer(site_routes()) as server:
        server.route(
            "/sitemap.xml",
            sitemap(
                server.url("/orphan"),
                server.url("/deep"),  # also linked: keeps its link depth
                server.url("/private/only-in-sitemap"),  # robots.txt disallows it
                server.url("/excluded/only-in-sitemap"),  # crawl.exclude refuses it
                "http://elsewhere.example/out-of-scope",
            ),
        )
        pages = crawl(server, tmp_path, seed_from_sitemaps=True, exclude=("^/excluded/",))
        orphan_requests = server.count("/orphan")
        private_requests = server.count("/private/only-in-sitemap")
        excluded_requests = server.count("/excluded/only-in-sitemap")
        url = server.url

    orphan = pages[url("/orphan")]
    assert orphan_requests == 1
    assert orphan["crawl_state"] == "ok"
    assert orphan["discovered_via"] == "sitemap"
    assert orphan["found_on"] is None
    assert orphan["depth"] == SITEMAP_SEED_DEPTH  # queued behind every linked page
    # the orphan's own links are followed, and say where they were found
    behind = pages[url("/behind-orphan")]
    assert (behind["discovered_via"], behind["found_on"]) == ("link", url("/orphan"))
    # a URL a link also reaches keeps its link depth and referrer: the sitemap does not claim it
    deep = pages[url("/deep")]
    assert (deep["discovered_via"], deep["depth"], deep["found_on"]) == (
        "link",
        2,
        url("/linked"),
    )
    start = pages[url("/")]
    assert (start["discovered_via"], start["depth"]) == ("start_url", 0)
    # robots.txt applies to sitemap URLs as to any URL: a row, no request
    private = pages[url("/private/only-in-sitemap")]
    assert private["crawl_state"] == "blocked_by_robots"
    assert private["discovered_via"] == "sitemap"
    assert private_requests == 0
    # include/exclude apply too (only start URLs are exempt), and scope filters the rest
    assert excluded_requests == 0
    assert url("/excluded/only-in-sitemap") not in pages
    assert "http://elsewhere.example/out-of-scope" not in pages
    # the run still names only the real start URLs (the warehouse's click depth starts there)
    run = json.loads((tmp_path / "crawl_run.json").read_text())
    assert run["start_urls"] == [url("/")]


def test_without_the_setting_the_sitemap_is_not_read_and_orphans_stay_uncrawled(
    tmp_path: Path,
) -> None:
    with TestServer(site_routes()) as server:
        server.route("/sitemap.xml", sitemap(server.url("/orphan")))
        pages = crawl(server, tmp_path)
        assert server.count("/sitemap.xml") == 0
        assert server.count("/orphan") == 0
    assert {p["discovered_via"] for p in pages.values()} == {"start_url", "link"}


def test_the_seed_limit_caps_the_sitemap_urls_queued(tmp_path: Path) -> None:
    with TestServer(site_routes()) as server:
        extra = {f"/s{i}": links_page() for i in range(5)}
        for path, reply in extra.items():
            server.route(path, reply)
        server.route("/sitemap.xml", sitemap(*(server.url(p) for p in extra)))
        pages = crawl(server, tmp_path, seed_from_sitemaps=True, sitemap_seed_limit=2)
        fetched = [p for p in extra if server.count(p)]
    assert fetched == ["/s0", "/s1"]  # the first ones, in sitemap order
    assert sum(p["discovered_via"] == "sitemap" for p in pages.values()) == 2
