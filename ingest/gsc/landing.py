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
import pyarrow.compute as pc
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


def landed_day_is_provisional(site_id: str, day: date, base: Path | None = None) -> bool:
    """Does the landed file of `day` hold provisional (`dataState=all`) rows?

    Read from the Parquet footer (the `is_provisional` column's max statistic), so checking every
    recent day costs one small read per file; the column itself is read only when a writer left
    no statistics. A day not landed, or landed without rows, is not provisional.
    """
    path = search_analytics_path(site_id, day, base)
    if not path.exists():
        return False
    parquet = pq.ParquetFile(path)
    index = parquet.schema_arrow.get_field_index("is_provisional")
    if index < 0:
        return False
    metadata = parquet.metadata
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(index).statistics
        if stats is None or not stats.has_min_max:
            column = parquet.read(columns=["is_provisional"])["is_provisional"]
            return bool(pc.any(column).as_py())
        if stats.max:
            return True
    return False


def provisional_days(
    site_id: str, since: date, until: date, base: Path | None = None
) -> list[date]:
    """Landed days from `since` to `until` (inclusive) still holding provisional rows."""
    return [
        day
        for day in landed_days(site_id, base)
        if since <= day <= until and landed_day_is_provisional(site_id, day, base)
    ]
