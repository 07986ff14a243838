"""Where Search Console data lands, and the atomic writes that put it there.

Layout under `$LINKWAREHOUSE_DATA/landing/gsc/<site>/`:
- `search_analytics/date=YYYY-MM-DD/search_analytics.parquet`: one file per day. Pulling a day
  again (the provisional days, a backfill) replaces the file with one rename, so a reader sees
  the old day or the new day, never a mix, and a failed pull leaves the old file untouched.
- `url_inspection/<run id>.parquet`: one file per inspection run; the history is kept because
  each inspection spent daily quota and says what Google thought on that day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.gsc.schema import SEARCH_ANALYTICS_SCHEMA, URL_INSPECTION_SCHEMA
from ingest.landing import write_table
from ingest.paths import landing_dir

SOURCE = "gsc"


def search_analytics_dir(site_id: str, base: Path | None = None) -> Path:
    return landing_dir(SOURCE, site_id, base) / "search_analytics"


def search_analytics_path(site_id: str, day: date, base: Path | None = None) -> Path:
    folder = search_analytics_dir(site_id, base) / f"date={day.isoformat()}"
    return folder / "search_analytics.parquet"


def url_inspection_dir(site_id: str, base: Path | None = None) -> Path:
    return landing_dir(SOURCE, site_id, base) / "url_inspection"


def land_search_analytics_day(
    table: pa.Table, site_id: str, day: date, base: Path | None = None
) -> Path:
    """Write one whole day (replacing an earlier pull of it) in a single atomic rename."""
    if table.schema != SEARCH_ANALYTICS_SCHEMA:
        table = table.cast(SEARCH_ANALYTICS_SCHEMA)
    return write_table(table, search_analytics_path(site_id, day, base))


def land_url_inspection_run(
    table: pa.Table, site_id: str, run_id: str, base: Path | None = None
) -> Path:
    if table.schema != URL_INSPECTION_SCHEMA:
        table = table.cast(URL_INSPECTION_SCHEMA)
    return write_table(table, url_inspection_dir(site_id, base) / f"{run_id}.parquet")


def landed_days(site_id: str, base: Path | None = None) -> list[date]:
    """Days with a landed search analytics file, oldest first."""
    root = search_analytics_dir(site_id, base)
    if not root.exists():
        return []
    days = []
    for folder in root.iterdir():
        if folder.name.startswith("date=") and (folder / "search_analytics.parquet").exists():
            days.append(date.fromisoformat(folder.name[len("date=") :]))
    return sorted(days)


def read_search_analytics_day(site_id: str, day: date, base: Path | None = None) -> pa.Table:
    return pq.read_table(search_analytics_path(site_id, day, base))
