"""`make demo` end to end: every source lands, the warehouse builds through Dagster, the summary
prints, and what the warehouse says about the demo shop matches what the shop planted.

The other warehouse tests build from a crawl and sitemaps, or from hand-written landing rows;
this is the one run with the demo's own backlink exports and Search Console data together, the
combination that only `make demo` exercised before (a GSC zip holding several reports broke a
uniqueness test there and nowhere else).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from demo.site import DemoSite, build_demo_site
from ingest.urls import url_key

pytestmark = pytest.mark.timeout(2400)

SECTIONS = (
    "crawl",
    "sitemaps and robots.txt",
    "backlink exports",
    "Search Console (fake API, real client)",
    "link-equity warehouse (dbt + PageRank)",
)


@pytest.fixture(scope="module")
def run(demo_run):
    assert demo_run.returncode == 0, demo_run.stderr[-4000:]
    return demo_run


@pytest.fixture(scope="module")
def site(run) -> DemoSite:
    site = build_demo_site()
    site.base_url = run.base_url
    return site


@pytest.fixture(scope="module")
def db(run) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(run.warehouse), read_only=True)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def landed(data: Path, pattern: str, columns: list[str]) -> list[dict]:
    out: list[dict] = []
    for path in sorted(data.glob(pattern)):
        out.extend(pq.ParquetFile(path).read(columns=columns).to_pylist())
    return out


def test_every_step_prints_its_section_and_the_summary_has_every_finding(run) -> None:
    headers = re.findall(r"^== (.+) ==$", run.stdout, flags=re.MULTILINE)
    assert headers == list(SECTIONS)
    summary = run.stdout.split("== link-equity warehouse (dbt + PageRank) ==")[1]
    assert "not built" not in summary
    assert re.search(r"site demo: \d+ URLs known \(crawl \d+, sitemaps \d+, ", summary)
    assert "top pages by link score" in summary
    assert re.search(r"orphans: [1-9]\d* \(found in sitemaps", summary)
    assert re.search(r"sitemap issues: \w+ \d+", summary)
    assert re.search(r"cannibalized queries: [1-9]", summary)
    assert "top equity gaps (striking distance" in summary


def test_every_source_is_in_dim_pages_with_its_provenance(run, site: DemoSite, db) -> None:
    pages = rows(db, "select * from marts.dim_pages where site_id = 'demo'")
    crawled = {p["url"] for p in pages if p["in_crawl"]}
    listed = {p["url"] for p in pages if p["in_sitemap"]}
    assert crawled == site.reachable_urls()
    assert listed == site.sitemap_urls()

    landing = run.data / "landing"
    backlink_targets = {
        r["target_key"]
        for r in landed(landing, "backlinks/demo/*/backlinks.parquet", ["target_key"])
        if r["target_key"] is not None
    }
    assert backlink_targets, "the demo exports land links to the shop"
    assert {p["url_key"] for p in pages if p["in_backlinks"]} == backlink_targets

    searched = {
        r["url_key"] for r in landed(landing, "gsc/demo/search_analytics/*/*.parquet", ["url_key"])
    }
    inspected = {
        url_key(r["url"]) for r in landed(landing, "gsc/demo/url_inspection/**/*.parquet", ["url"])
    }
    assert searched and inspected
    assert {p["url_key"] for p in pages if p["in_gsc"]} == searched | inspected


def test_search_performance_keeps_every_landed_click_and_impression(run, db) -> None:
    landed_rows = landed(
        run.data / "landing",
        "gsc/demo/search_analytics/*/*.parquet",
        ["clicks", "impressions"],
    )
    clicks, impressions = db.execute(
        "select sum(clicks), sum(impressions) from marts.fct_search_performance_daily"
        " where site_id = 'demo'"
    ).fetchone()
    assert clicks == sum(r["clicks"] for r in landed_rows)
    assert impressions == sum(r["impressions"] for r in landed_rows)


def test_planted_orphans_are_found_with_every_source_that_knows_them(site: DemoSite, db) -> None:
    found = {
        r["url"]: r for r in rows(db, "select * from marts.orphan_pages where site_id = 'demo'")
    }
    assert {r["orphan_status"] for r in found.values()} == {"orphan"}
    assert site.orphans() <= set(found)
    for url in site.orphans():
        assert "sitemap" in found[url]["found_in"], url


def test_the_planted_jackets_cannibalization_is_found(db) -> None:
    competing = rows(
        db,
        "select page_url, click_share from marts.query_cannibalization"
        " where site_id = 'demo' and query = 'jackets' and is_competing",
    )
    paths = {re.sub(r"^https?://[^/]+", "", r["page_url"]) for r in competing}
    assert {"/c/women/jackets/", "/c/men/jackets/"} <= paths
    assert all(r["click_share"] >= 0.2 for r in competing)


def test_equity_gaps_are_live_indexable_pages_in_striking_distance(site: DemoSite, db) -> None:
    gaps = rows(db, "select * from marts.equity_gaps where site_id = 'demo'")
    assert gaps
    for gap in gaps:
        assert 4 <= gap["avg_position"] <= 20, gap
        assert gap["impressions"] >= 100, gap
        assert gap["link_score"] is None or gap["link_score"] <= 50, gap
        page = site.page(gap["url"])
        assert page.status == 200 and not page.is_noindex, gap["url"]


def test_backlinks_lift_tipr_over_the_policy_pagerank(db) -> None:
    """TIPR is the policy PageRank with a teleport that follows referring domains: pages with
    backlinks gain on it, pages without lose (the demo's exports point at a few dozen pages)."""
    ratios = rows(
        db,
        "select referring_domains > 0 as has_backlinks,"
        " median(pagerank_tipr / pagerank_policy) as ratio"
        " from marts.page_link_equity"
        " where site_id = 'demo' and pagerank_policy > 0 group by 1 order by 1",
    )
    by_flag = {r["has_backlinks"]: r["ratio"] for r in ratios}
    assert by_flag[True] > 1 > by_flag[False]


def test_link_position_performance_has_the_shop_template_positions(db) -> None:
    positions = {
        r["link_position"]
        for r in rows(
            db,
            "select distinct link_position from marts.link_position_performance"
            " where site_id = 'demo' and segmentation = 'linked_from' and impressions > 0",
        )
    }
    assert {"content", "nav", "footer"} <= positions
