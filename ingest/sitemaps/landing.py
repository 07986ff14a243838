"""Where a sitemap run lands and how it gets there: `landing/sitemaps/<site>/<run>/`.

A run is built in `landing/sitemaps/<site>/.staging/<run>/` and renamed into place only when all
three files and `sitemap_run.json` are written, so dbt (which globs
`landing/sitemaps/*/*/sitemap_urls.parquet`) sees a whole run or none of it. URL rows are
appended to `sitemap_urls.parquet` batch by batch while the sitemaps stream in (see
`rows.BatchWriter`), so memory never holds a whole run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ingest.landing import write_json, write_rows
from ingest.paths import landing_dir, new_run_id
from ingest.sitemaps.schema import ROBOTS_SCHEMA, SITEMAPS_SCHEMA

SOURCE = "sitemaps"
URLS_FILE = "sitemap_urls.parquet"
SITEMAPS_FILE = "sitemaps.parquet"
ROBOTS_FILE = "robots.parquet"
RUN_FILE = "sitemap_run.json"


def sitemaps_root(site_id: str, base: Path | None = None) -> Path:
    return landing_dir(SOURCE, site_id, base)


def staging_run_dir(site_id: str, base: Path | None = None, run_id: str | None = None) -> Path:
    """A fresh folder to build a run in (outside the glob dbt reads)."""
    return sitemaps_root(site_id, base) / ".staging" / (run_id or new_run_id())


def published_dir(staging: Path) -> Path:
    """Where `publish_run` will move a staging run."""
    return staging.parent.parent / staging.name


def publish_run(staging: Path) -> Path:
    """Move a finished staging run to `landing/sitemaps/<site>/<run>/` in one rename."""
    final = published_dir(staging)
    os.replace(staging, final)
    with contextlib.suppress(OSError):  # another run may be staging concurrently
        staging.parent.rmdir()
    return final


def latest_sitemap_run(site_id: str, base: Path | None = None) -> Path | None:
    root = sitemaps_root(site_id, base)
    if not root.exists():
        return None
    runs = sorted(p for p in root.iterdir() if p.is_dir() and (p / RUN_FILE).exists())
    return runs[-1] if runs else None


def write_run_files(
    run_dir: Path,
    *,
    sitemap_rows: Iterable[Mapping[str, Any]],
    robots_rows: Iterable[Mapping[str, Any]],
    summary: Mapping[str, Any],
) -> None:
    """The file and robots rows, then the summary (written last: it marks a finished run)."""
    write_rows(sitemap_rows, SITEMAPS_SCHEMA, run_dir / SITEMAPS_FILE)
    write_rows(robots_rows, ROBOTS_SCHEMA, run_dir / ROBOTS_FILE)
    write_json(summary, run_dir / RUN_FILE)


def read_urls(run_dir: Path, columns: list[str] | None = None) -> Any:
    return pq.read_table(run_dir / URLS_FILE, columns=columns)
