"""Search analytics, one day at a time: pull every row of the day, then land it in one write.

Why one day per request: Google recommends it, a day is the unit the data settles in, and it is
the landing partition. Why final first: `dataState=final` is what reports should use; only a
day that has no final data yet - a recent one, or one whose landed file is still provisional -
is pulled again with `dataState=all` and flagged provisional. The daily schedule re-pulls the
last days and every landed provisional day of the last 16, so a provisional day is replaced by
its final rows (same file, one rename) as soon as Google has settled it, and never by nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingest.config import SiteConfig
from ingest.gsc.budget import pacific_today
from ingest.gsc.client import QueryResult, SearchConsoleClient
from ingest.gsc.errors import GscConfigError
from ingest.gsc.landing import (
    land_search_analytics_day,
    landed_day_is_provisional,
    read_search_analytics_day,
    search_analytics_path,
)
from ingest.gsc.schema import SEARCH_ANALYTICS_SCHEMA
from ingest.gsc.settings import GscSettings, site_gsc_settings
from ingest.urls import DEFAULT_POLICY, InvalidURL, UrlPolicy, normalize_url, url_key

log = logging.getLogger(__name__)

_AGGREGATION_TYPES = {
    name.lower(): name for name in ("auto", "byProperty", "byPage", "byNewsShowcasePanel")
}
_DIMENSION_COLUMNS = {
    "date": "date",
    "page": "page",
    "query": "query",
    "device": "device",
    "country": "country",
    "searchappearance": "search_appearance",
}


@dataclass(frozen=True)
class DayResult:
    """What one landed day holds, in the figures people read (CLI line, asset metadata)."""

    site_id: str
    day: date
    path: Path
    rows: int
    provisional_rows: int
    data_state: str
    is_provisional: bool
    first_incomplete_date: date | None
    requests: int
    clicks: int
    impressions: int
    pages: int
    queries: int
    aggregation_type: str | None

    def line(self) -> str:
        state = "provisional" if self.is_provisional else "final"
        return (
            f"{self.day}: {self.rows} rows ({state}), {self.clicks} clicks, "
            f"{self.impressions} impressions, {self.requests} requests -> {self.path}"
        )


def normalize_aggregation_type(value: str | None) -> str | None:
    """`BY_PAGE` (discovery) and `byPage` (wire) are the same value."""
    if not value:
        return None
    return _AGGREGATION_TYPES.get(value.replace("_", "").lower(), value)


def first_incomplete_date(metadata: Mapping[str, Any] | None) -> date | None:
    """`metadata.first_incomplete_date` (docs) or `firstIncompleteDate` (discovery, clients)."""
    for key, value in (metadata or {}).items():
        if key.replace("_", "").lower() == "firstincompletedate" and value:
            return date.fromisoformat(str(value)[:10])
    return None


def query_body(settings: GscSettings, day: date, data_state: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "startDate": day.isoformat(),
        "endDate": day.isoformat(),
        "dimensions": list(settings.dimensions),
        "type": settings.search_type,
        "dataState": data_state,
    }
    if settings.aggregation_type != "auto":
        body["aggregationType"] = settings.aggregation_type
    return body


def rows_to_table(
    api_rows: Sequence[Mapping[str, Any]],
    dimensions: Sequence[str],
    *,
    day: date,
    common: Mapping[str, Any],
    policy: UrlPolicy = DEFAULT_POLICY,
) -> pa.Table:
    """The landing table of API rows: `keys` follow the request's dimension order.

    Dimension names match case-insensitively; device is upper-cased and country lower-cased so
    both spellings fold; counts arrive as doubles (`109.0`) and land as integers. Built column by
    column (a day can hold tens of thousands of rows) and each distinct page is normalized once.
    """
    n = len(api_rows)
    keys = [row.get("keys") or () for row in api_rows]
    columns: dict[str, list[Any]] = {}
    for index, dimension in enumerate(dimensions):
        column = _DIMENSION_COLUMNS[dimension.lower()]
        values = [k[index] if len(k) > index else None for k in keys]
        if column == "date":
            values = [date.fromisoformat(str(v)[:10]) if v else day for v in values]
        elif column == "device":
            values = [str(v).upper() if v is not None else None for v in values]
        elif column == "country":
            values = [str(v).lower() if v is not None else None for v in values]
        columns[column] = values
    columns.setdefault("date", [day] * n)
    if "page" in columns:
        normalized = {page: _normalize_page(page, policy) for page in set(columns["page"])}
        columns["page_url"] = [normalized[page][0] for page in columns["page"]]
        columns["url_key"] = [normalized[page][1] for page in columns["page"]]
    clicks = [int(round(float(row.get("clicks") or 0))) for row in api_rows]
    impressions = [int(round(float(row.get("impressions") or 0))) for row in api_rows]
    columns["clicks"] = clicks
    columns["impressions"] = impressions
    columns["ctr"] = [
        float(row["ctr"]) if row.get("ctr") is not None else (c / i if i else 0.0)
        for row, c, i in zip(api_rows, clicks, impressions, strict=True)
    ]
    columns["position"] = [
        float(row["position"]) if row.get("position") is not None else None for row in api_rows
    ]
    unknown = set(common) - set(SEARCH_ANALYTICS_SCHEMA.names)
    if unknown:
        raise KeyError(f"columns not in the landing schema: {sorted(unknown)}")
    data = {
        name: columns[name] if name in columns else [common.get(name)] * n
        for name in SEARCH_ANALYTICS_SCHEMA.names
    }
    return pa.table(data, schema=SEARCH_ANALYTICS_SCHEMA)


def _normalize_page(page: Any, policy: UrlPolicy) -> tuple[str | None, str | None]:
    if not page:
        return None, None
    try:
        normalized = normalize_url(str(page), policy=policy)
    except InvalidURL:
        return None, None  # kept with its raw `page`; staging reports the null url_key
    return normalized, url_key(normalized)


def pull_day(
    client: SearchConsoleClient,
    site_id: str,
    settings: GscSettings,
    day: date,
    *,
    policy: UrlPolicy = DEFAULT_POLICY,
    base: Path | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> DayResult:
    """Pull every row of `day` and land it; nothing is written unless every page arrived.

    Provisional rows are never replaced by an empty final answer: when the landed file is
    provisional and Google still has no final data, the day is pulled with `dataState=all`
    again whatever its age (a backfill of an old provisional day keeps it provisional), and if
    even that comes back empty the landed file is kept as it is.
    """
    today = today or pacific_today()
    what = f"searchanalytics.query for {day}"
    result = client.query_rows(query_body(settings, day, "final"), what)
    data_state, provisional = "final", False
    requests = result.requests
    if not result.rows:
        recent = (today - day).days <= settings.fresh_days
        was_provisional = landed_day_is_provisional(site_id, day, base)
        if recent or was_provisional:
            # No final data yet: take the fresh (partial) data, flagged.
            fresh = client.query_rows(query_body(settings, day, "all"), what + " (dataState=all)")
            requests += fresh.requests
            if not fresh.rows and was_provisional:
                return _keep_landed_day(site_id, day, base, requests)
            result = QueryResult(fresh.rows, fresh.metadata, fresh.aggregation_type, requests)
            data_state, provisional = "all", True
    incomplete = first_incomplete_date(result.metadata)
    aggregation = normalize_aggregation_type(result.aggregation_type)
    common = {
        "site_id": site_id,
        "property_url": settings.property_url,
        "search_type": settings.search_type,
        "aggregation_type": aggregation,
        "data_state": data_state,
        "is_provisional": provisional,
        "first_incomplete_date": incomplete,
        "pulled_at": now or datetime.now(UTC),
    }
    table = rows_to_table(result.rows, settings.dimensions, day=day, common=common, policy=policy)
    path = land_search_analytics_day(table, site_id, day, base)
    summary = _day_result(site_id, day, path, table, requests, data_state, provisional)
    summary = replace(summary, first_incomplete_date=incomplete, aggregation_type=aggregation)
    log.info("gsc %s %s", site_id, summary.line())
    return summary


def _keep_landed_day(site_id: str, day: date, base: Path | None, requests: int) -> DayResult:
    """The summary of the landed provisional day, left in place because Google sent nothing."""
    path = search_analytics_path(site_id, day, base)
    table = read_search_analytics_day(site_id, day, base)
    summary = _day_result(site_id, day, path, table, requests, "all", True)
    log.warning(
        "gsc %s %s: no final and no fresh rows from Search Console; the landed provisional "
        "rows are kept",
        site_id,
        day,
    )
    return summary


def _day_result(
    site_id: str,
    day: date,
    path: Path,
    table: pa.Table,
    requests: int,
    data_state: str,
    provisional: bool,
) -> DayResult:
    return DayResult(
        site_id=site_id,
        day=day,
        path=path,
        rows=table.num_rows,
        provisional_rows=table.num_rows if provisional else 0,
        data_state=data_state,
        is_provisional=provisional,
        first_incomplete_date=_first_value(table, "first_incomplete_date"),
        requests=requests,
        clicks=_sum(table, "clicks"),
        impressions=_sum(table, "impressions"),
        pages=_distinct(table, "page"),
        queries=_distinct(table, "query"),
        aggregation_type=_first_value(table, "aggregation_type"),
    )


def pull_days(
    site: SiteConfig,
    start: date,
    end: date,
    *,
    gsc: GscSettings | None = None,
    base: Path | None = None,
    env: Mapping[str, str] | None = None,
    client: SearchConsoleClient | None = None,
    today: date | None = None,
    on_day: Callable[[DayResult], None] | None = None,
) -> list[DayResult]:
    """Pull and land each day from `start` to `end` (inclusive), oldest first.

    Each day lands whole on its own; the first day that fails raises, and the days before it
    stay landed (run the same range again to finish: landed days are simply replaced).
    """
    if start > end:
        raise GscConfigError(f"start date {start} is after end date {end}")
    gsc = gsc or site_gsc_settings(site)
    client = client or SearchConsoleClient.from_settings(gsc, env)
    today = today or pacific_today()
    results: list[DayResult] = []
    day = start
    while day <= end:
        result = pull_day(client, site.id, gsc, day, policy=site.url_policy, base=base, today=today)
        results.append(result)
        if on_day is not None:
            on_day(result)
        day += timedelta(days=1)
    return results


def _sum(table: pa.Table, column: str) -> int:
    value = pc.sum(table[column]).as_py() if table.num_rows else 0
    return int(value or 0)


def _first_value(table: pa.Table, column: str) -> Any:
    values = pc.drop_null(table[column])
    return values[0].as_py() if len(values) else None


def _distinct(table: pa.Table, column: str) -> int:
    if not table.num_rows:
        return 0
    return len(pc.unique(pc.drop_null(table[column])))
