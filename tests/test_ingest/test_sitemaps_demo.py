"""The demo shop's sitemaps against its ground truth: every file, every <loc>, every lastmod,
hreflang and image value, and every planted sitemap finding the landing files can show."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.config import load_config
from ingest.sitemaps.collect import SitemapRunSummary, collect_sitemaps


@pytest.fixture(scope="module")
def demo_run(demo_server, tmp_path_factory: pytest.TempPathFactory) -> SitemapRunSummary:  # noqa: ANN001
    os.environ["LINKWAREHOUSE_DEMO_URL"] = demo_server.base_url + "/"
    try:
        site = load_config().site("demo")
    finally:
        del os.environ["LINKWAREHOUSE_DEMO_URL"]
    return collect_sitemaps(site, base=tmp_path_factory.mktemp("sitemaps_demo"))


@pytest.fixture(scope="module")
def files(demo_run: SitemapRunSummary) -> dict[str, dict]:
    rows = pq.read_table(demo_run.run_dir / "sitemaps.parquet").to_pylist()
    return {r["sitemap_url"]: r for r in rows}


@pytest.fixture(scope="module")
def urls(demo_run: SitemapRunSummary) -> list[dict]:
    return pq.read_table(demo_run.run_dir / "sitemap_urls.parquet").to_pylist()


def test_every_sitemap_file_is_found_and_read(demo_server, demo_run, files) -> None:  # noqa: ANN001
    site = demo_server.site
    index = site.url("/sitemap_index.xml")
    children = [u for u in site.sitemap_files() if u not in site.sitemap_roots()]
    assert list(files) == site.sitemap_roots() + children  # read level by level
    assert all(files[u]["parent"] == index and files[u]["depth"] == 1 for u in children)
    assert set(files) == {index, *site.sitemap_files()}
    assert files[index]["kind"] == "index" and files[index]["n_urls"] == 3
    assert all(r["status"] == 200 and r["error"] is None for r in files.values())
    assert [files[u]["source"] for u in site.sitemap_roots()] == ["robots"] * 3
    assert files[site.url("/sitemap-products.xml.gz")]["is_gzip"]
    assert demo_run.n_errors == 0


def test_each_file_lists_exactly_the_generated_locs_in_order(demo_server, urls, files) -> None:  # noqa: ANN001
    by_file: dict[str, list[str]] = defaultdict(list)
    for row in urls:
        by_file[row["sitemap_url"]].append(row["url"])
    assert dict(by_file) == demo_server.site.sitemap_files()
    assert {r["url"] for r in urls} == demo_server.site.sitemap_urls()
    for url, locs in by_file.items():
        assert files[url]["n_urls"] == len(locs)


def test_lastmods_hreflang_and_images_are_the_generated_values(demo_server, urls) -> None:  # noqa: ANN001
    site = demo_server.site
    lastmods = site.sitemap_lastmods()
    assert all(row["lastmod_raw"] == lastmods[row["url"]] for row in urls)
    hreflang = {
        row["url"]: [(h["lang"], h["href"]) for h in row["hreflang"]]
        for row in urls
        if row["hreflang"]
    }
    assert hreflang == site.sitemap_hreflang()
    images = {row["url"]: row["image_locs"] for row in urls if row["n_images"]}
    assert images == site.sitemap_images()
    assert all(row["n_images"] == len(row["image_locs"] or []) for row in urls)


def test_planted_findings_visible_in_the_sitemap_landing(demo_server, urls, files) -> None:  # noqa: ANN001
    site = demo_server.site
    expected = site.expected_sitemap_findings()
    invalid = {r["url"] for r in urls if r["lastmod_raw"] and r["lastmod"] is None}
    assert invalid == expected["invalid_lastmod"]
    newest = max(r["lastmod"] for r in urls if r["lastmod"] is not None)
    stale = {
        r["url"]
        for r in urls
        if r["lastmod"] is not None and newest - r["lastmod"] > timedelta(days=730)
    }
    assert stale == expected["stale_lastmod"]
    blocked = {r["url"] for r in urls if r["is_robots_blocked"]}
    assert blocked == {r["url"] for r in urls if r["is_googlebot_blocked"]}
    assert blocked == expected["blocked_by_robots"]
    listed: dict[str, int] = defaultdict(int)
    for row in urls:
        listed[row["url"]] += 1
    assert {u for u, n in listed.items() if n > 1} == expected["multiple_sitemaps"]
    assert sum(r["n_duplicates_across"] for r in files.values()) == 2 * len(
        expected["multiple_sitemaps"]
    )
    odd_type = {u for u, r in files.items() if any(w.startswith("unexpected_content_type")
                                                   for w in r["warnings"])}  # fmt: skip
    assert odd_type == expected["unexpected_content_type"]
    listed_urls = {r["url"] for r in urls}
    for finding in ("not_found", "redirect", "noindex", "non_canonical", "orphan"):
        assert expected[finding] and expected[finding] <= listed_urls, finding
    alternates = {h["href"] for r in urls for h in r["hreflang"] or []}
    assert {a for a in alternates if "/de/" in a or a.endswith("/de")} == {
        href for pairs in site.sitemap_hreflang().values() for lang, href in pairs if lang == "de"
    }


def test_the_robots_record_lists_the_three_sitemaps(
    demo_server, demo_run: SitemapRunSummary
) -> None:  # noqa: ANN001
    (robots,) = pq.read_table(demo_run.run_dir / "robots.parquet").to_pylist()
    assert robots["sitemaps"] == demo_server.site.sitemap_roots()
    assert robots["outcome"] == "parsed" and robots["is_root_allowed"]
    assert "Disallow: /cart/" in robots["body"]


def test_the_run_summary_reads_well(demo_run: SitemapRunSummary) -> None:
    lines = demo_run.lines()
    assert lines[0].startswith("sitemaps: 6 files (1 index, 5 urlset)")
    assert Path(lines[-1].removeprefix("landed in ")) == demo_run.run_dir


def test_the_crawler_can_seed_its_frontier_from_the_sitemaps(demo_server) -> None:  # noqa: ANN001
    from ingest.sitemaps import sitemap_seed_urls

    os.environ["LINKWAREHOUSE_DEMO_URL"] = demo_server.base_url + "/"
    try:
        site = load_config().site("demo")
    finally:
        del os.environ["LINKWAREHOUSE_DEMO_URL"]
    seeds = sitemap_seed_urls(site)
    assert len(seeds) == len(set(seeds)) and set(seeds) == demo_server.site.sitemap_urls()
    assert sitemap_seed_urls(site, limit=10) == seeds[:10]
