"""The crawler against the demo shop's own ground truth: what was generated is what landed."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.landing import read_crawl_run


@pytest.fixture(scope="module")
def pages(demo_crawl: Path) -> list[dict]:
    return pq.read_table(demo_crawl / "pages.parquet").to_pylist()


@pytest.fixture(scope="module")
def links(demo_crawl: Path) -> list[dict]:
    return pq.read_table(demo_crawl / "links.parquet").to_pylist()


def test_the_crawled_url_set_is_exactly_the_reachable_set(demo_server, pages) -> None:
    site = demo_server.site
    crawled = [p["url"] for p in pages]
    assert len(crawled) == len(set(crawled)), "a URL landed twice"
    expected = site.reachable_urls()
    assert len(expected) >= 2000
    missing = expected - set(crawled)
    extra = set(crawled) - expected
    assert not missing and not extra, (sorted(missing)[:10], sorted(extra)[:10])


def test_links_per_page_are_exactly_as_generated_in_order_and_position(
    demo_server, pages, links
) -> None:
    site = demo_server.site
    by_source: dict[str, list[dict]] = defaultdict(list)
    for link in links:
        by_source[link["source_url"]].append(link)
    parsed_pages = [p for p in pages if p["crawl_state"] == "ok" and p["is_html"]]
    assert len(parsed_pages) >= 2000
    for page in parsed_pages:
        got = sorted(by_source.get(page["url"], []), key=lambda r: r["link_index"])
        want = site.links(site.path_of(page["url"]))
        got_view = [
            (
                r["target_url"],
                r["anchor_text"],
                r["position"],
                r["is_nofollow"],
                r["is_ugc"],
                r["is_sponsored"],
                r["is_image"],
                r["is_internal"],
            )
            for r in got
        ]
        want_view = [
            (
                w.target,
                w.anchor_text,
                w.position,
                w.is_nofollow,
                w.is_ugc,
                w.is_sponsored,
                w.is_image,
                w.is_internal,
            )
            for w in want
        ]
        assert got_view == want_view, page["url"]
        assert [r["link_index"] for r in got] == list(range(len(got)))


def test_every_position_occurs_in_the_demo(links) -> None:
    positions = {link["position"] for link in links}
    assert positions == {"header", "nav", "breadcrumb", "sidebar", "content", "footer"}


def test_planted_problems_land_with_their_state(demo_server, pages) -> None:
    site = demo_server.site
    by_url = {p["url"]: p for p in pages}
    blocked = site.robots_disallowed()
    assert blocked
    for url in blocked:
        assert by_url[url]["crawl_state"] == "blocked_by_robots"
        assert by_url[url]["status"] is None
    statuses = {p["status"] for p in pages}
    assert {200, 301, 302, 404} <= statuses
    redirects = [p for p in pages if p["crawl_state"] == "redirect"]
    chains = [p for p in redirects if len(p["redirect_chain"]) >= 3]
    assert chains, "the demo's redirect chain was not recorded as a chain"
    noindex = [p for p in pages if p["indexability_reason"] == "noindex"]
    assert noindex
    canonicalised = [p for p in pages if p["indexability_reason"] == "canonicalised"]
    assert canonicalised
    assert not any(url in by_url for url in site.orphans())


def test_the_crawl_run_is_complete_and_counts_add_up(demo_crawl: Path, pages, links) -> None:
    run = read_crawl_run(demo_crawl)
    assert run["complete"] is True, run.get("stop_reason")
    assert run["stop_reason"] == "frontier_empty"
    assert run["counts"]["pages"] == len(pages)
    assert run["counts"]["links"] == len(links)
