"""The warehouse on hand-built landing files: every source, run selection, incomplete crawls.

Three sites in one data folder, one warehouse build:

* alpha: two finished crawl runs (only the newer counts), sitemaps, Search Console, backlinks.
  / links to /a from its content, to /b from its footer, to /c from its nav, to /r (a redirect
  to /a), to /v (a variant canonicalised to /d) and, nofollow, to /n. /c links to /x, a 404.
* beta: the latest crawl stopped at max_pages, so orphans cannot be computed.
* gamma: sitemaps only, no crawl at all.
* delta: a complete crawl whose run record names no start URL, so no page has a click path.
* epsilon: / links to /a from its content, /f from its footer, /n nofollow; its `pagerank:`
  config block reverses the content and footer weights and drops nofollow links.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from warehouse_helpers import Warehouse, link_row, page_row, write_crawl_run, write_sitemap_run

from ingest.backlinks.schema import BACKLINKS_SCHEMA
from ingest.config import load_config
from ingest.gsc.schema import SEARCH_ANALYTICS_SCHEMA, URL_INSPECTION_SCHEMA
from ingest.landing import write_rows
from ingest.urls import url_key
from linking.graph import PageRankSettings, compute_link_equity
from linking.pagerank_io import read_graph_tables
from linking.warehouse import build_warehouse, page_scores_run_info, pagerank_settings_by_site

A = "https://alpha.example"
B = "https://beta.example"
G = "https://gamma.example"
D = "https://delta.example"
E = "https://epsilon.example"
LAST_DAY = date(2026, 3, 31)
# Building a warehouse runs several dbt processes: minutes on a loaded machine.
pytestmark = pytest.mark.timeout(1200)


def _backlink(
    row: int,
    domain: str,
    target: str,
    *,
    vendor: str,
    file: str,
    authority: float,
    lost: bool = False,
    seen: datetime = datetime(2026, 1, 10),
) -> dict:
    """One landed backlink row from https://<domain>/post to alpha's /<target>."""
    source = f"https://{domain}/post"
    return {
        "source_url": source,
        "source_key": url_key(source),
        "source_domain": domain,
        "target_url": f"{A}/{target}",
        "target_key": url_key(f"{A}/{target}"),
        "is_nofollow": False,
        "is_lost": lost,
        "last_seen": seen,
        "authority_0_100": authority,
        "vendor": vendor,
        "report": "backlinks",
        "file": file,
        "row_number": row,
        "grain": "link",
    }


def _alpha(data: Path) -> None:
    old_pages = [page_row(f"{A}/"), page_row(f"{A}/old-only")]
    old_links = [link_row(f"{A}/", f"{A}/old-only", 0)]
    write_crawl_run(
        data, "alpha", "20260101T000000000000Z", old_pages, old_links, start_urls=[f"{A}/"]
    )
    pages = [
        page_row(f"{A}/"),
        page_row(f"{A}/a", depth=1),
        page_row(f"{A}/b", depth=1),
        page_row(f"{A}/c", depth=1),
        page_row(f"{A}/d", depth=2),
        page_row(f"{A}/v", canonical=f"{A}/d", depth=1),
        page_row(f"{A}/r", status=301, redirect_to=f"{A}/a", depth=1),
        page_row(f"{A}/n", depth=1),
        page_row(f"{A}/x", status=404, depth=2),
    ]
    links = [
        link_row(f"{A}/", f"{A}/a", 0, "content"),
        link_row(f"{A}/", f"{A}/b", 1, "footer"),
        link_row(f"{A}/", f"{A}/c", 2, "nav"),
        link_row(f"{A}/", f"{A}/r", 3, "content"),
        link_row(f"{A}/", f"{A}/v", 4, "content"),
        link_row(f"{A}/", f"{A}/n", 5, "content", is_nofollow=True, rel="nofollow"),
        link_row(f"{A}/", f"{A}/", 6, "header"),
        link_row(f"{A}/a", f"{A}/", 0, "content"),
        link_row(f"{A}/b", f"{A}/", 0, "content"),
        link_row(f"{A}/c", f"{A}/x", 0, "content"),
        link_row(f"{A}/c", f"{A}/", 1, "content"),
        link_row(f"{A}/c", f"{A}/d", 2, "content"),
        link_row(f"{A}/d", f"{A}/", 0, "content"),
        link_row(f"{A}/v", f"{A}/", 0, "content"),
        link_row(f"{A}/n", f"{A}/", 0, "content"),
    ]
    write_crawl_run(
        data,
        "alpha",
        "20260201T000000000000Z",
        pages,
        links,
        start_urls=[f"{A}/"],
        allowed_hosts=["alpha.example"],
    )
    sitemap = f"{A}/sitemap.xml"
    write_sitemap_run(
        data,
        "alpha",
        "20260201T000000000000Z",
        {f"{A}/{p}": sitemap for p in ("", "a", "b", "orphan", "r", "v")},
    )
    # A newer sitemap run still being written: its URL file is there, sitemap_run.json is not.
    unfinished = write_sitemap_run(
        data, "alpha", "20260301T000000000000Z", {f"{A}/unfinished": sitemap}
    )
    (unfinished / "sitemap_run.json").unlink()
    (unfinished / "sitemaps.parquet").unlink()
    rows = []
    for offset in range(7):
        day = LAST_DAY - timedelta(days=offset)
        for page, query, clicks, impressions, position in (
            ("a", "shoes", 6, 60, 3.0),
            ("b", "shoes", 4, 150, 8.0),
            ("c", "shoes", 1, 10, 12.0),
            ("gsc-only", "old shoes", 0, 130, 11.0),
            ("x", "broken shoes", 0, 200, 9.0),
        ):
            url = f"{A}/{page}"
            rows.append(
                {
                    "site_id": "alpha",
                    "date": day,
                    "page": url,
                    "page_url": url,
                    "url_key": url_key(url),
                    "query": query,
                    "device": "MOBILE",
                    "country": "gbr",
                    "search_type": "web",
                    "clicks": clicks,
                    "impressions": impressions,
                    "ctr": clicks / impressions,
                    "position": position,
                    "is_provisional": False,
                }
            )
        path = data / "landing" / "gsc" / "alpha" / "search_analytics" / f"date={day}"
        write_rows(
            [r for r in rows if r["date"] == day],
            SEARCH_ANALYTICS_SCHEMA,
            path / "search_analytics.parquet",
        )
    backlinks = [
        _backlink(i + 1, domain, target, vendor="ahrefs", file="export.csv", authority=50.0)
        for i, (target, domain) in enumerate(
            [
                ("d", "one.example"),
                ("d", "two.example"),
                ("d", "three.example"),
                ("r", "four.example"),
                ("r", "five.example"),
                ("orphan", "six.example"),
            ]
        )
    ]
    write_rows(
        backlinks,
        BACKLINKS_SCHEMA,
        data / "landing" / "backlinks" / "alpha" / "0123456789abcdef" / "backlinks.parquet",
    )
    # A newer export (another vendor) sees three.example's link to /d lost, and a link from
    # seven.example to /c that an older export of its own had reported lost is live again.
    later = [
        _backlink(
            i + 1,
            domain,
            target,
            vendor="semrush",
            file="later.csv",
            authority=40.0,
            lost=lost,
            seen=seen,
        )
        for i, (domain, target, lost, seen) in enumerate(
            [
                ("three.example", "d", True, datetime(2026, 2, 1)),
                ("seven.example", "c", True, datetime(2026, 1, 1)),
                ("seven.example", "c", False, datetime(2026, 2, 1)),
            ]
        )
    ]
    write_rows(
        later,
        BACKLINKS_SCHEMA,
        data / "landing" / "backlinks" / "alpha" / "fedcba9876543210" / "backlinks.parquet",
    )


def _inspection(url: str, inspected_at: datetime, **fields: object) -> dict:
    return {
        "site_id": "alpha",
        "url": url,
        "url_key": url_key(url),
        "inspection_url": url,
        "verdict": "PASS",
        "coverage_state": "Submitted and indexed",
        "robots_txt_state": "ALLOWED",
        "inspected_at": inspected_at,
        **fields,
    }


def _alpha_inspections(data: Path) -> None:
    """Two URL Inspection runs of /a: one landed before the schema gained
    `last_crawl_time_raw` and `warnings` (a file without those columns), and a newer one."""
    folder = data / "landing" / "gsc" / "alpha" / "url_inspection"
    old_schema = URL_INSPECTION_SCHEMA
    for name in ("last_crawl_time_raw", "warnings"):
        old_schema = old_schema.remove(old_schema.get_field_index(name))
    write_rows(
        [_inspection(f"{A}/a", datetime(2026, 3, 1))], old_schema, folder / "20260301.parquet"
    )
    newer = _inspection(
        f"{A}/a",
        datetime(2026, 3, 20),
        robots_txt_state="DISALLOWED",
        last_crawl_time_raw="2026-03-19T25:00:00Z",
        warnings=["unparsed_last_crawl_time: 2026-03-19T25:00:00Z"],
    )
    write_rows([newer], URL_INSPECTION_SCHEMA, folder / "20260320.parquet")


def _beta(data: Path) -> None:
    pages = [page_row(f"{B}/"), page_row(f"{B}/p")]
    links = [link_row(f"{B}/", f"{B}/p", 0)]
    write_crawl_run(
        data,
        "beta",
        "20260201T000000000000Z",
        pages,
        links,
        complete=False,
        stop_reason="max_pages",
        start_urls=[f"{B}/"],
    )
    write_sitemap_run(data, "beta", "20260201T000000000000Z", {f"{B}/lonely": f"{B}/sitemap.xml"})


def _gamma(data: Path) -> None:
    write_sitemap_run(data, "gamma", "20260201T000000000000Z", {f"{G}/": f"{G}/sitemap.xml"})


def _delta(data: Path) -> None:
    pages = [page_row(f"{D}/"), page_row(f"{D}/p")]
    write_crawl_run(
        data, "delta", "20260201T000000000000Z", pages, [link_row(f"{D}/", f"{D}/p", 0)]
    )
    write_sitemap_run(data, "delta", "20260201T000000000000Z", {f"{D}/p": f"{D}/sitemap.xml"})


def _epsilon(data: Path) -> dict[str, PageRankSettings]:
    """The site's landing files; returns the PageRank settings of its config (a YAML file)."""
    pages = [page_row(f"{E}/")] + [page_row(f"{E}/{p}", depth=1) for p in ("a", "f", "n")]
    links = [
        link_row(f"{E}/", f"{E}/a", 0, "content"),
        link_row(f"{E}/", f"{E}/f", 1, "footer"),
        link_row(f"{E}/", f"{E}/n", 2, "content", is_nofollow=True, rel="nofollow"),
        *(link_row(f"{E}/{p}", f"{E}/", 0, "content") for p in ("a", "f", "n")),
    ]
    write_crawl_run(data, "epsilon", "20260201T000000000000Z", pages, links, start_urls=[f"{E}/"])
    config = data / "config.yaml"
    config.write_text(
        f"sites:\n  - id: epsilon\n    start_urls: ['{E}/']\n"
        "    pagerank: {position_weights: {content: 0.1, footer: 1.0}, nofollow: drop}\n"
    )
    return pagerank_settings_by_site(load_config(config))


@pytest.fixture(scope="module")
def module_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's own data folder (its own landing files and warehouse file)."""
    return tmp_path_factory.mktemp("warehouse_data")


@pytest.fixture(scope="module")
def warehouse(module_data: Path) -> Warehouse:
    _alpha(module_data)
    _alpha_inspections(module_data)
    _beta(module_data)
    _gamma(module_data)
    _delta(module_data)
    build_warehouse(module_data, site_settings=_epsilon(module_data))
    return Warehouse(module_data)


def _by_path(rows: list[dict], base: str = A) -> dict[str, dict]:
    return {row["url"].removeprefix(base) or "/": row for row in rows}


def test_only_the_latest_finished_run_of_a_site_is_used(warehouse: Warehouse) -> None:
    runs = warehouse.rows(
        "select distinct run_id from staging.stg_crawl__pages where site_id = 'alpha'"
    )
    assert runs == [("20260201T000000000000Z",)]
    assert warehouse.column(
        "select count(*) from marts.dim_pages where url = ?", [f"{A}/old-only"]
    ) == [0]


def test_orphans_carry_every_source_that_knows_them(warehouse: Warehouse) -> None:
    rows = _by_path(warehouse.dicts("select * from marts.orphan_pages where site_id = 'alpha'"))
    assert set(rows) == {"/orphan", "/gsc-only"}
    assert rows["/orphan"]["found_in"] == ["sitemap", "backlinks"]
    assert rows["/gsc-only"]["found_in"] == ["gsc"]
    assert {row["orphan_status"] for row in rows.values()} == {"orphan"}


def test_url_inspections_expose_the_raw_crawl_time_and_warnings_and_read_old_files(
    warehouse: Warehouse,
) -> None:
    rows = warehouse.rows(
        "select inspection_run_id, last_crawl_time_raw, warnings from staging.stg_gsc__url_inspections"
        " where site_id = 'alpha' order by inspected_at"
    )
    assert rows == [
        ("20260301", None, []),
        ("20260320", "2026-03-19T25:00:00Z", ["unparsed_last_crawl_time: 2026-03-19T25:00:00Z"]),
    ]
    (latest,) = warehouse.dicts(
        "select * from marts.dim_pages_search where site_id = 'alpha' and url = ?", [f"{A}/a"]
    )
    assert latest["gsc_robots_txt_state"] == "DISALLOWED"
    assert latest["gsc_verdict"] == "PASS"
    assert latest["in_gsc"]


def test_dim_pages_search_is_dim_pages_with_search_console_figures(warehouse: Warehouse) -> None:
    core = warehouse.rows("select site_id, url_key from marts.dim_pages order by all")
    search = warehouse.rows("select site_id, url_key from marts.dim_pages_search order by all")
    assert core == search
    clicks = warehouse.column(
        "select count(*) from marts.dim_pages_search where gsc_clicks is not null"
    )
    assert clicks[0] > 0


def test_an_incomplete_crawl_gives_an_explicit_state_instead_of_orphans(
    warehouse: Warehouse,
) -> None:
    rows = warehouse.dicts("select * from marts.orphan_pages where site_id = 'beta'")
    assert len(rows) == 1
    (row,) = rows
    assert row["orphan_status"] == "crawl_incomplete"
    assert row["url_key"] is None
    assert row["crawl_stop_reason"] == "max_pages"
    assert row["n_candidates"] == 1  # /lonely would have been flagged
    assert "crawl incomplete (max_pages)" in row["status_message"]


def test_a_site_without_a_crawl_says_so(warehouse: Warehouse) -> None:
    rows = warehouse.dicts("select * from marts.orphan_pages where site_id = 'gamma'")
    assert [(r["orphan_status"], r["url_key"]) for r in rows] == [("no_crawl", None)]


def test_a_crawl_that_reached_no_page_from_its_start_urls_computes_no_orphans(
    warehouse: Warehouse,
) -> None:
    """Without a click path from a start URL every known page would read as an orphan."""
    rows = warehouse.dicts("select * from marts.orphan_pages where site_id = 'delta'")
    assert [(r["orphan_status"], r["url_key"]) for r in rows] == [("no_start_page", None)]
    assert "reached no page from its start URLs" in rows[0]["status_message"]


def test_redirects_and_canonicals_fold_in_the_link_graph(warehouse: Warehouse) -> None:
    edges = warehouse.dicts(
        "select e.*, s.url as source_url, t.url as target_url"
        " from intermediate.int_link_graph_edges e"
        " join marts.dim_pages s on s.url_key = e.source_key"
        " join marts.dim_pages t on t.url_key = e.target_key where e.site_id = 'alpha'"
    )
    from_home = {
        (e["target_url"].removeprefix(A), e["position"]): e
        for e in edges
        if e["source_url"] == f"{A}/"
    }
    # /r (301 -> /a) and the direct link to /a, both in the content: one edge, the better weight
    assert from_home[("/a", "content")]["n_links"] == 2
    assert from_home[("/a", "content")]["weight"] == pytest.approx(1.0)
    # /v folds into its canonical /d; the self-link of / is dropped
    assert ("/d", "content") in from_home and ("/v", "content") not in from_home
    assert not any(target == "/" for target, _ in from_home)
    # nofollow evaporates: kept, not followed
    assert from_home[("/n", "content")]["is_followed"] is False


def test_backlinks_into_a_redirect_count_for_its_final_page(warehouse: Warehouse) -> None:
    authority = _by_path(
        warehouse.dicts(
            "select a.*, p.url from intermediate.int_backlink_authority a"
            " join marts.dim_pages p using (site_id, url_key) where a.site_id = 'alpha'"
        )
    )
    assert authority["/a"]["referring_domains"] == 2
    # three.example's link to /d is lost in the newest export: it no longer counts
    assert authority["/d"]["referring_domains"] == 2
    # seven.example's link to /c was lost, then seen live again later: it counts
    assert authority["/c"]["referring_domains"] == 1
    assert "/r" not in authority
    lost = warehouse.dicts(
        "select is_lost, vendors from marts.fct_backlinks where source_key = ? and target_key = ?",
        [url_key("https://three.example/post"), url_key(f"{A}/d")],
    )
    assert lost == [{"is_lost": True, "vendors": ["ahrefs", "semrush"]}]
    backlinks = warehouse.dicts(
        "select * from marts.fct_backlinks where target_key = ?", [url_key(f"{A}/r")]
    )
    assert {b["resolved_target_key"] for b in backlinks} == {url_key(f"{A}/a")}


def test_position_weights_and_tipr_move_scores_in_the_expected_direction(
    warehouse: Warehouse,
) -> None:
    scores = _by_path(
        warehouse.dicts("select * from marts.page_link_equity where site_id = 'alpha'")
    )
    a, b, c, d = scores["/a"], scores["/b"], scores["/c"], scores["/d"]
    # /a is linked from the home page's content, /b from its footer: same raw rank...
    assert a["pagerank_raw"] == pytest.approx(b["pagerank_raw"], rel=1e-6)
    # ...but the reasonable surfer follows the content link more
    assert a["pagerank_weighted"] > b["pagerank_weighted"]
    assert c["pagerank_weighted"] > b["pagerank_weighted"]  # nav (0.3) > footer (0.1)
    # /d has three referring domains, /b none: TIPR lifts /d and lowers /b
    assert d["tipr_lift"] > 1 > b["tipr_lift"]
    # ineligible pages (the 404, the redirect, the variant) have no score
    for path in ("/x", "/r", "/v"):
        assert scores[path]["link_score"] is None, path
    assert max(s["link_score"] or 0 for s in scores.values()) == pytest.approx(100.0)


def test_cannibalized_queries_have_two_pages_over_a_fifth_of_the_clicks(
    warehouse: Warehouse,
) -> None:
    rows = _by_path(
        warehouse.dicts(
            "select *, page_url as url from marts.query_cannibalization where site_id = 'alpha'"
        )
    )
    assert set(rows) == {"/a", "/b", "/c"}
    assert {r["query"] for r in rows.values()} == {"shoes"}
    assert rows["/a"]["click_share"] == pytest.approx(6 / 11)
    assert rows["/b"]["click_share"] == pytest.approx(4 / 11)
    assert (rows["/a"]["is_competing"], rows["/b"]["is_competing"]) == (True, True)
    assert rows["/c"]["is_competing"] is False
    assert rows["/a"]["n_competing_pages"] == 2


def test_equity_gaps_are_striking_distance_pages_short_of_link_equity(
    warehouse: Warehouse,
) -> None:
    rows = _by_path(
        warehouse.dicts("select * from marts.equity_gaps where site_id = 'alpha' order by gap_rank")
    )
    # /b: position 8 with 1,050 impressions over the window, linked only from a footer
    assert "/b" in rows
    assert rows["/b"]["impressions"] == 7 * 150
    assert rows["/b"]["avg_position"] == pytest.approx(8.0)
    assert rows["/b"]["link_score"] <= 50
    assert rows["/b"]["is_crawled"] is True
    # /a ranks 3rd (not striking distance); /c has too few impressions (70)
    assert "/a" not in rows and "/c" not in rows
    # /x ranks 9th with 1,400 impressions but the crawl found it 404: no page to link to
    assert "/x" not in rows
    # /gsc-only ranks 11th and no link leads to it: the biggest gap, flagged as never crawled
    assert rows["/gsc-only"]["is_crawled"] is False
    assert rows["/gsc-only"]["link_score"] is None


def test_link_position_performance_segments_targets_by_inlink_position(
    warehouse: Warehouse,
) -> None:
    rows = {
        (r["segmentation"], r["link_position"]): r
        for r in warehouse.dicts(
            "select * from marts.link_position_performance where site_id = 'alpha'"
        )
    }
    footer = rows[("linked_from", "footer")]
    assert footer["n_target_pages"] == 1  # /b
    assert footer["clicks"] == 7 * 4
    assert footer["impressions"] == 7 * 150
    content = rows[("primary_position", "content")]
    assert content["n_target_pages"] >= 2


def test_both_sitemap_models_read_the_latest_finished_sitemap_run(warehouse: Warehouse) -> None:
    runs = {
        model: warehouse.column(
            f"select distinct run_id from staging.{model} where site_id = 'alpha'"
        )
        for model in ("stg_sitemaps__sitemap_urls", "stg_sitemaps__sitemaps")
    }
    assert runs == {
        "stg_sitemaps__sitemap_urls": ["20260201T000000000000Z"],
        "stg_sitemaps__sitemaps": ["20260201T000000000000Z"],
    }


def test_the_sitemap_audit_lists_problems_and_missing_pages(warehouse: Warehouse) -> None:
    issues = {
        (r["url"].removeprefix(A), r["issue"])
        for r in warehouse.dicts("select * from marts.sitemap_audit where site_id = 'alpha'")
    }
    assert ("/r", "non_200") in issues
    assert ("/v", "non_canonical") in issues
    assert ("/orphan", "not_in_crawl") in issues
    missing = {path for path, issue in issues if issue == "missing_from_sitemap"}
    assert missing == {"/c", "/d", "/n"}
    # a site without a crawl lists nothing as missing, a site without sitemaps nothing at all
    assert warehouse.column(
        "select count(*) from marts.sitemap_audit where site_id = 'gamma'"
        " and issue = 'missing_from_sitemap'"
    ) == [0]
    # "not in crawl" needs a complete crawl: not for gamma (none) nor beta (stopped at max_pages)
    assert warehouse.column(
        "select count(*) from marts.sitemap_audit where site_id in ('beta', 'gamma')"
        " and issue = 'not_in_crawl'"
    ) == [0]


def test_a_sites_pagerank_config_weights_its_links_and_the_mart_reports_its_policy(
    warehouse: Warehouse,
) -> None:
    scores = _by_path(
        warehouse.dicts("select * from marts.page_link_equity where site_id = 'epsilon'"), E
    )
    nodes, edges = read_graph_tables(warehouse.path, site_id="epsilon")
    defaults = compute_link_equity(nodes, edges, PageRankSettings()).table.to_pylist()
    path_of = {row["url_key"]: path for path, row in scores.items()}
    default = {path_of[row["url_key"]]: row for row in defaults}
    # defaults: the content link passes more than the footer link; epsilon's config reverses it
    assert default["/a"]["pagerank_weighted"] > default["/f"]["pagerank_weighted"]
    assert scores["/f"]["pagerank_weighted"] > scores["/a"]["pagerank_weighted"]
    assert scores["/f"]["pagerank_weighted"] > default["/f"]["pagerank_weighted"]
    assert scores["/a"]["pagerank_weighted"] < default["/a"]["pagerank_weighted"]
    # the mart's policy is the one PageRank applied: dropped nofollow links evaporate nothing
    assert {s["nofollow_policy"] for s in scores.values()} == {"drop"}
    assert sum(s["pagerank_policy"] for s in scores.values()) == pytest.approx(1.0, rel=1e-6)
    assert sum(r["pagerank_policy"] for r in defaults) < 1 - 1e-3  # evaporate loses some
    assert warehouse.column(
        "select distinct nofollow_policy from marts.page_link_equity where site_id = 'alpha'"
    ) == ["evaporate"]  # no config block: the defaults
    settings = page_scores_run_info(warehouse.data)["epsilon"]["settings"]
    assert settings["position_weights"]["footer"] == 1.0
    assert settings["position_weights"]["nav"] == PageRankSettings().position_weights["nav"]
