"""The warehouse built from a crawl and the sitemaps of the demo shop, against the shop's truth.

Only the crawl and the sitemaps land here: Search Console and backlinks are absent, so this also
shows the warehouse building with their placeholders alone.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from warehouse_helpers import Warehouse, environment

from ingest.urls import url_key
from linking.warehouse import build_warehouse

RUN_ID = "20260101T000000000000Z"
# Building a warehouse runs several dbt processes: minutes on a loaded machine.
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def module_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's own data folder (its own landing files and warehouse file)."""
    return tmp_path_factory.mktemp("warehouse_data")


@pytest.fixture(scope="module")
def warehouse(demo_server, demo_crawl: Path, module_data: Path) -> Warehouse:
    shutil.copytree(
        demo_crawl,
        module_data / "landing" / "crawl" / "demo" / RUN_ID,
        ignore=shutil.ignore_patterns(".state"),
    )
    from ingest.config import load_config
    from ingest.sitemaps.collect import collect_sitemaps

    with environment(LINKWAREHOUSE_DEMO_URL=demo_server.base_url + "/"):
        site = load_config().site("demo")
    collect_sitemaps(site, base=module_data)
    build_warehouse(module_data)
    return Warehouse(module_data)


@pytest.fixture(scope="module")
def site(demo_server):
    return demo_server.site


def _follow_redirects(site, url: str) -> tuple[str, int, bool]:
    """(final URL, hops, is_loop) by the generator's own redirect targets."""
    seen, hops = [url], 0
    while (target := site.page(url).redirect_target) is not None:
        if target in seen:
            return seen[0], 0, True
        seen.append(target)
        url, hops = target, hops + 1
    return url, hops, False


def test_the_warehouse_knows_every_crawled_and_sitemap_url_with_its_provenance(
    warehouse: Warehouse, site
) -> None:
    crawled = set(warehouse.column("select url from marts.dim_pages where in_crawl"))
    listed = set(warehouse.column("select url from marts.dim_pages where in_sitemap"))
    assert crawled == site.reachable_urls()
    assert listed == site.sitemap_urls()
    assert warehouse.column(
        "select count(*) from marts.dim_pages where in_gsc or in_backlinks"
    ) == [0]


def test_every_planted_orphan_is_found_with_the_sitemap_as_its_source(
    warehouse: Warehouse, site
) -> None:
    rows = warehouse.dicts("select * from marts.orphan_pages where site_id = 'demo'")
    found = {row["url"]: row for row in rows}
    assert site.orphans(), "the demo plants orphans"
    assert site.orphans() <= set(found)
    for url in site.orphans():
        assert found[url]["orphan_status"] == "orphan"
        assert found[url]["found_in"] == ["sitemap"]


def test_orphans_are_exactly_the_sitemap_urls_no_link_path_reaches(
    warehouse: Warehouse, site
) -> None:
    found = set(warehouse.column("select url from marts.orphan_pages where url is not null"))
    assert found == site.sitemap_urls() - site.reachable_urls()


def test_click_depths_are_exactly_the_generated_ones(warehouse: Warehouse, site) -> None:
    got = dict(
        warehouse.rows(
            "select p.url, d.click_depth from marts.page_depth d"
            " join marts.dim_pages p using (site_id, url_key) where d.click_depth is not null"
        )
    )
    want = site.depths()
    wrong = {url: (got.get(url), depth) for url, depth in want.items() if got.get(url) != depth}
    assert not wrong, list(wrong.items())[:10]
    assert set(got) == set(want)
    deep = set(warehouse.column("select url from marts.page_depth where is_deep"))
    assert deep == {url for url, depth in want.items() if depth >= 4}


def test_redirect_chains_fold_to_their_final_url_counting_every_hop(
    warehouse: Warehouse, site
) -> None:
    resolved = {
        row["url"]: row for row in warehouse.dicts("select * from intermediate.int_urls_resolved")
    }
    redirects = [p for p in site.pages.values() if p.redirect_target and p.url in resolved]
    assert len(redirects) >= 5
    assert any(_follow_redirects(site, p.url)[1] >= 2 for p in redirects), "a multi-hop chain"
    for page in redirects:
        final, hops, is_loop = _follow_redirects(site, page.url)
        row = resolved[page.url]
        if is_loop:
            assert row["resolved_url"] == page.url, page.url
            assert row["resolution_kind"] == "self"
        else:
            assert row["resolved_url"] == final, page.url
            assert row["n_redirect_hops"] == hops, page.url
            assert math.isclose(row["retention"], 0.9**hops), page.url


def test_links_into_redirects_count_for_the_final_page_with_the_hop_retention(
    warehouse: Warehouse, site
) -> None:
    redirect_urls = [p.url for p in site.pages.values() if p.redirect_target]
    redirect_keys = [url_key(u) for u in redirect_urls]
    n_into_redirects = warehouse.column(
        "select count(*) from marts.fct_internal_links where list_contains(?, target_key)",
        [redirect_keys],
    )[0]
    assert n_into_redirects > 0
    # no edge of the PageRank graph ends at a redirect that could be folded
    folded = [url_key(p.url) for p in site.pages.values() if p.redirect_target]
    loops = [url_key(p.url) for p in site.pages.values() if _follow_redirects(site, p.url)[2]]
    dangling = warehouse.column(
        "select count(*) from intermediate.int_link_graph_edges"
        " where list_contains(?, target_key) and not list_contains(?, target_key)",
        [folded, loops],
    )[0]
    assert dangling == 0
    # the weight of an edge that went through a redirect is 0.9 ^ hops
    weights = warehouse.rows(
        "select distinct n_redirect_hops, weight from intermediate.int_link_graph_edges"
        " where is_folded and n_redirect_hops > 0"
    )
    assert weights
    for hops, weight in weights:
        assert math.isclose(weight, 0.9**hops)


def test_canonicalised_variants_fold_into_their_canonical(warehouse: Warehouse, site) -> None:
    resolved = dict(warehouse.rows("select url, resolved_url from intermediate.int_urls_resolved"))
    variants = [
        p
        for p in site.pages.values()
        if p.status == 200 and p.canonical and p.canonical != p.url and p.url in resolved
    ]
    assert len(variants) >= 10
    assert {p.kind for p in variants} >= {"variant"}
    for page in variants:
        assert resolved[page.url] == page.canonical, page.url
    variant_keys = [url_key(p.url) for p in variants]
    assert (
        warehouse.column(
            "select count(*) from intermediate.int_link_graph_edges where list_contains(?, target_key)",
            [variant_keys],
        )[0]
        == 0
    )


def test_sitemap_problems_are_listed(warehouse: Warehouse, site) -> None:
    from demo.site import STALE_LASTMOD_DAYS

    planted = site.expected_sitemap_findings()
    stale_days = warehouse.column(
        "select distinct regexp_extract(detail, 'more than (\\d+) days', 1)::int"
        " from marts.sitemap_audit where issue = 'stale_lastmod'"
    )
    assert stale_days == [STALE_LASTMOD_DAYS]  # the dbt var and the demo agree
    reachable = site.reachable_urls()
    pages = site.pages.values()
    listed = [p for p in pages if p.in_sitemap]
    # what the crawl can know: a robots-blocked URL is never fetched (no status, no meta robots)
    fetched = [p for p in listed if p.url in reachable and not p.robots_disallowed]
    expected = {
        "non_200": {p.url for p in fetched if p.status != 200},
        "noindex": {p.url for p in fetched if p.status == 200 and p.is_noindex},
        "non_canonical": {
            p.url for p in fetched if p.status == 200 and p.canonical and p.canonical != p.url
        },
        "robots_blocked": {p.url for p in listed if p.robots_disallowed},
        "not_in_crawl": {p.url for p in listed} - reachable,
        "missing_from_sitemap": {
            p.url
            for p in pages
            if p.url in reachable
            and not p.in_sitemap
            and p.status == 200
            and p.kind != "pdf"
            and not p.is_noindex
            and not p.robots_disallowed
            and (p.canonical is None or p.canonical == p.url)
        },
        # the planted lastmods (demo/site.py), judged by the same rule as the mart's
        "invalid_lastmod": planted["invalid_lastmod"],
        "stale_lastmod": planted["stale_lastmod"],
        "future_lastmod": set(),
    }
    got: dict[str, set[str]] = {issue: set() for issue in expected}
    for issue, url in warehouse.rows("select issue, url from marts.sitemap_audit"):
        got.setdefault(issue, set()).add(url)
    assert expected["non_200"] and expected["noindex"] and expected["missing_from_sitemap"]
    assert expected["invalid_lastmod"] and expected["stale_lastmod"]
    for issue, urls in expected.items():
        assert got[issue] == urls, issue


def test_every_eligible_page_has_a_link_score_and_the_home_page_leads(
    warehouse: Warehouse, site
) -> None:
    rows = warehouse.dicts("select * from marts.page_link_equity where site_id = 'demo'")
    eligible = [r for r in rows if r["is_eligible"]]
    assert len(eligible) >= 1500
    assert all(r["link_score"] is not None for r in eligible)
    assert all(r["link_score"] is None for r in rows if not r["is_eligible"])
    top = max(eligible, key=lambda r: r["link_score"])
    assert top["url"] == site.url("/")
    assert top["link_score"] == pytest.approx(100.0)
    assert rows[0]["nofollow_policy"] == "evaporate"
    assert rows[0]["redirect_hop_retention"] == pytest.approx(0.9)


def test_search_marts_are_empty_without_search_console(warehouse: Warehouse) -> None:
    for table in ("fct_search_performance_daily", "query_cannibalization", "equity_gaps"):
        assert warehouse.column(f"select count(*) from marts.{table}") == [0], table
