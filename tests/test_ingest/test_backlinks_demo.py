"""The committed demo exports: deterministic, four vendor formats, real demo pages as targets."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from demo.backlinks.generate import (
    AHREFS_FILE,
    EXPORTS,
    GSC_FILE,
    MAJESTIC_FILE,
    SEMRUSH_FILE,
    write_demo_exports,
)
from ingest.backlinks.importer import import_backlinks
from ingest.config import load_config


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_demo_exports(tmp_path_factory.mktemp("demo_exports"))


def test_the_generator_rewrites_the_committed_files_byte_for_byte(generated: list[Path]) -> None:
    """If this fails the demo shop changed: run `python -m demo.backlinks.generate`."""
    for path in generated:
        assert path.read_bytes() == (EXPORTS / path.name).read_bytes(), path.name


def test_the_ahrefs_sample_is_written_as_ahrefs_writes_it() -> None:
    data = (EXPORTS / AHREFS_FILE).read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)
    text = data.decode("utf-16")
    header = text.split("\n", 1)[0]
    assert header.count("\t") == 36 and header.startswith('"Referring page title"\t')
    assert "\r" not in text and text.endswith('"\n')
    assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())


def test_the_gsc_sample_is_a_zip_of_the_links_reports() -> None:
    with zipfile.ZipFile(EXPORTS / GSC_FILE) as archive:
        assert archive.namelist() == [
            "Latest links.csv",
            "Top linking sites.csv",
            "Top linked pages - externally.csv",
            "Top linking text.csv",
        ]


def test_every_in_scope_target_is_a_page_of_the_demo_shop(tmp_path: Path) -> None:
    from demo.site import DemoSite

    pages = set(DemoSite().sitemap_urls())
    site = load_config().site("demo")
    targets: set[str] = set()
    for name in (AHREFS_FILE, SEMRUSH_FILE, MAJESTIC_FILE, GSC_FILE):
        result = import_backlinks(EXPORTS / name, site, tmp_path)
        targets |= {t for t in pq.read_table(result.backlinks_path)["target_url"].to_pylist() if t}
    assert len(targets) == 16
    assert targets <= pages


def test_make_demo_imports_the_exports_through_the_sensor(tmp_path: Path) -> None:
    from orchestration.defs.backlinks.demo import import_demo_backlinks

    lines = import_demo_backlinks(dg.DagsterInstance.ephemeral(), tmp_path)
    assert sorted(lines[:4]) == sorted(
        [
            f"backlinks: {AHREFS_FILE}: 36 rows in, 31 landed, 5 quarantined",
            f"backlinks: {SEMRUSH_FILE}: 24 rows in, 21 landed, 3 quarantined",
            f"backlinks: {MAJESTIC_FILE}: 19 rows in, 18 landed, 1 quarantined",
            f"backlinks: {GSC_FILE}: 42 rows in, 40 landed, 2 quarantined",
        ]
    )
    assert lines[4:] == [
        "backlinks: merged 82 link rows into 52 links (20 seen by several vendors)"
    ]


def test_the_demo_exports_follow_the_shop_to_another_port(tmp_path: Path, monkeypatch) -> None:
    from orchestration.defs.backlinks.demo import drop_demo_exports

    monkeypatch.setenv("LINKWAREHOUSE_DEMO_URL", "http://127.0.0.1:9999/")
    paths = drop_demo_exports(tmp_path, "http://127.0.0.1:9999")
    site = load_config().site("demo")
    result = import_backlinks(next(p for p in paths if p.name == SEMRUSH_FILE), site, tmp_path)
    assert (result.rows_in, result.landed, result.quarantined) == (24, 21, 3)
