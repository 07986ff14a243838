"""The per-site merge: one row per (source, target), every vendor's observation kept."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from demo.backlinks import samples
from ingest.backlinks.importer import import_backlinks
from ingest.backlinks.merge import merge_site_backlinks
from ingest.backlinks.schema import MERGED_SCHEMA
from ingest.config import SiteConfig, site_from_start_url

SHOP = "https://shop.example"
AHREFS = samples.fixture_header(samples.AHREFS_FIXTURE)


@pytest.fixture
def site() -> SiteConfig:
    return site_from_start_url(f"{SHOP}/", "shop")


def _import_three_vendors(tmp_path: Path, site: SiteConfig) -> Path:
    data = tmp_path / "data"
    ahrefs = tmp_path / "ahrefs.csv"
    ahrefs.write_bytes(
        samples.ahrefs_bytes(
            AHREFS,
            [
                samples.row_for(
                    AHREFS,
                    {
                        "Referring page URL": "https://a.example.com/post",
                        "UR": "20",
                        "Target URL": f"{SHOP}/p/x/",
                        "Anchor": "x shoes",
                        "Nofollow": "true",
                        "First seen": "2025-03-01 00:00:00",
                        "Last seen": "2026-01-10 00:00:00",
                    },
                ),
                samples.row_for(
                    AHREFS,
                    {
                        "Referring page URL": "https://a.example.com/post",
                        "Target URL": f"{SHOP}/p/x/",
                        "Anchor": "the x",
                        "Nofollow": "true",
                    },
                ),
                samples.row_for(
                    AHREFS,
                    {
                        "Referring page URL": "https://only-ahrefs.example.com/",
                        "Target URL": f"{SHOP}/",
                    },
                ),
            ],
        )
    )
    semrush_header = samples.SEMRUSH_BACKLINKS_HEADER
    semrush = samples.write_export(
        tmp_path / "semrush.csv",
        semrush_header,
        [
            samples.row_for(
                semrush_header,
                {
                    "Source url": "https://A.example.com/post?utm_source=n",
                    "Target url": f"{SHOP}/p/x/",
                    "Anchor": "x shoes",
                    "Nofollow": "false",
                    "Page ascore": "35",
                    "First seen": "2024-11-01",
                    "Last seen": "2026-01-20",
                    "Lost link": "true",
                },
            ),
        ],
    )
    majestic_header = samples.MAJESTIC_CSV_HEADER
    majestic = samples.write_export(
        tmp_path / "majestic.csv",
        majestic_header,
        [
            samples.row_for(
                majestic_header,
                {
                    "Source URL": "https://a.example.com/post",
                    "Target URL": f"{SHOP}/p/x/",
                    "FlagNoFollow": "1",
                    "SourceTrustFlow": "12",
                },
            ),
        ],
    )
    gsc = samples.write_export(
        tmp_path / "Latest links.csv",
        samples.GSC_LATEST_LINKS["en"],
        [
            ["https://a.example.com/post", "Jan 22, 2026"],
        ],
    )
    sites = samples.write_export(
        tmp_path / "Top linking sites.csv",
        samples.GSC_TOP_LINKING_SITES["en"],
        [
            ["example.com", "4", "2"],
        ],
    )
    for path in (ahrefs, semrush, majestic, gsc, sites):
        import_backlinks(path, site, data)
    return data


def test_the_same_link_from_three_vendors_is_one_row_with_three_observations(
    tmp_path: Path, site: SiteConfig
) -> None:
    data = _import_three_vendors(tmp_path, site)
    result = merge_site_backlinks("shop", data)
    assert (result.files, result.rows_in, result.merged_rows) == (5, 6, 3)
    assert result.merged_duplicates == 3
    assert result.multi_vendor_links == 1
    assert result.rows_by_vendor == {"ahrefs": 3, "gsc": 1, "majestic": 1, "semrush": 1}
    table = pq.read_table(result.path)
    assert table.schema.equals(MERGED_SCHEMA, check_metadata=False)
    rows = {(r["source_url"], r["target_url"]): r for r in table.to_pylist()}
    link = rows[("https://a.example.com/post", f"{SHOP}/p/x/")]
    assert link["vendors"] == ["ahrefs", "majestic", "semrush"]
    assert link["n_observations"] == 4
    assert link["anchor_texts"] == ["the x", "x shoes"]
    # Semrush has the newest observation (last seen Jan 20, Ahrefs Jan 10): it decides the state.
    assert link["is_nofollow"] is False
    assert link["is_lost"] is True
    assert link["first_seen"].replace(tzinfo=None) == datetime(2024, 11, 1)
    assert link["last_seen"].replace(tzinfo=None) == datetime(2026, 1, 20)
    assert link["authority_0_100"] == 35.0
    observations = [
        (o["vendor"], o["row_number"], o["authority_metric"], o["is_nofollow"])
        for o in link["observations"]
    ]
    assert observations == [
        ("ahrefs", 2, "ahrefs_ur", True),
        ("ahrefs", 3, None, True),
        ("majestic", 2, "majestic_trust_flow", True),
        ("semrush", 2, "semrush_page_ascore", False),
    ]
    linking_page = rows[("https://a.example.com/post", None)]
    assert linking_page["vendors"] == ["gsc"]
    assert ("https://only-ahrefs.example.com/", f"{SHOP}/") in rows


def test_merging_again_gives_the_same_file(tmp_path: Path, site: SiteConfig) -> None:
    data = _import_three_vendors(tmp_path, site)
    first = pq.read_table(merge_site_backlinks("shop", data).path)
    second = pq.read_table(merge_site_backlinks("shop", data).path)
    assert first.equals(second)


def test_a_site_without_imports_gets_an_empty_merged_file(tmp_path: Path) -> None:
    result = merge_site_backlinks("nothing", tmp_path)
    assert (result.files, result.rows_in, result.merged_rows) == (0, 0, 0)
    assert pq.read_table(result.path).schema.equals(MERGED_SCHEMA, check_metadata=False)


def test_an_unfinished_import_folder_is_not_merged(tmp_path: Path, site: SiteConfig) -> None:
    data = _import_three_vendors(tmp_path, site)
    for manifest in (data / "landing" / "backlinks" / "shop").glob("*/import.json"):
        if "majestic" in manifest.read_text():
            manifest.unlink()
    result = merge_site_backlinks("shop", data)
    assert result.rows_by_vendor == {"ahrefs": 3, "gsc": 1, "semrush": 1}


def _semrush_export(path: Path, last_seen: str, lost: str, nofollow: str) -> Path:
    header = samples.SEMRUSH_BACKLINKS_HEADER
    row = {
        "Source url": "https://a.example.com/post",
        "Target url": f"{SHOP}/p/x/",
        "Anchor": f"seen {last_seen or 'undated'}",
        "Last seen": last_seen,
        "Lost link": lost,
        "Nofollow": nofollow,
    }
    return samples.write_export(path, header, [samples.row_for(header, row)])


def _merged_link(data: Path) -> dict:
    table = pq.read_table(merge_site_backlinks("shop", data).path)
    (link,) = table.to_pylist()
    return link


def test_a_link_lost_in_a_newer_export_is_lost(tmp_path: Path, site: SiteConfig) -> None:
    """Live (and nofollow) in an older export, lost (and followed) in a newer one: the newer
    observation decides, whichever file was imported first, and both observations are kept."""
    newer = _semrush_export(tmp_path / "march.csv", "2026-03-01", "true", "false")
    older = _semrush_export(tmp_path / "january.csv", "2026-01-10", "false", "true")
    data = tmp_path / "data"
    for path in (newer, older):  # imported newest first: recency is by last_seen, not import order
        import_backlinks(path, site, data)
    link = _merged_link(data)
    assert (link["is_lost"], link["is_nofollow"]) == (True, False)
    assert link["n_observations"] == 2
    assert sorted(o["is_lost"] for o in link["observations"]) == [False, True]


def test_a_link_live_again_in_a_newer_export_is_live(tmp_path: Path, site: SiteConfig) -> None:
    lost = _semrush_export(tmp_path / "january.csv", "2026-01-10", "true", "false")
    live = _semrush_export(tmp_path / "march.csv", "2026-03-01", "false", "false")
    data = tmp_path / "data"
    for path in (live, lost):
        import_backlinks(path, site, data)
    assert _merged_link(data)["is_lost"] is False


@pytest.mark.parametrize("live_first", [True, False])
def test_without_last_seen_the_later_import_decides(
    tmp_path: Path, site: SiteConfig, live_first: bool
) -> None:
    live = _semrush_export(tmp_path / "a.csv", "", "false", "false")
    lost = _semrush_export(tmp_path / "b.csv", "", "true", "false")
    data = tmp_path / "data"
    for path in (live, lost) if live_first else (lost, live):
        import_backlinks(path, site, data)
    assert _merged_link(data)["is_lost"] is live_first


def test_an_observation_that_does_not_report_a_state_does_not_decide_it(
    tmp_path: Path, site: SiteConfig
) -> None:
    """Majestic's CSV has no lost column: its newer row leaves Semrush's `lost` standing."""
    data = tmp_path / "data"
    import_backlinks(
        _semrush_export(tmp_path / "semrush.csv", "2026-01-10", "true", "false"), site, data
    )
    header = samples.MAJESTIC_CSV_HEADER
    majestic = samples.write_export(
        tmp_path / "majestic.csv",
        header,
        [
            samples.row_for(
                header,
                {
                    "Source URL": "https://a.example.com/post",
                    "Target URL": f"{SHOP}/p/x/",
                    "FlagNoFollow": "1",
                    "Source Crawl Date": "2026-03-01",
                },
            )
        ],
    )
    import_backlinks(majestic, site, data)
    link = _merged_link(data)
    assert (link["is_lost"], link["is_nofollow"], link["vendors"]) == (
        True,
        True,
        ["majestic", "semrush"],
    )
