"""Search Console assets: search analytics per site x day, and URL Inspection per site.

Thin wiring over `ingest.gsc`: the asset bodies resolve the site's settings, hand secrets over
from `dagster.EnvVar` (never into logs or metadata) and turn the library's results into metadata
people read. A failed pull raises `dagster.Failure` with the library's one-line message and
lands nothing for that partition (an earlier pull of the day stays in place). The one exception is
URL Inspection: each result spent daily quota, so a run stopped early lands what it has and is
recorded as a partial materialization before the run fails.
"""

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
from pydantic import Field

from ingest.gsc.budget import pacific_today
from ingest.gsc.errors import GscError
from ingest.gsc.inspection import InspectionRun, inspect_urls, urls_from_latest_crawl
from ingest.gsc.search_analytics import DayResult, pull_days
from ingest.gsc.settings import GscSettings, site_gsc_settings
from orchestration.lib.settings import LinkwarehouseSettings, site_ids

GSC_TIMEZONE = "America/Los_Angeles"  # Search Console days are Pacific days
SEARCH_ANALYTICS = dg.AssetKey(["gsc", "search_analytics"])
URL_INSPECTION = dg.AssetKey(["gsc", "url_inspection"])
CRAWL_PAGES = dg.AssetKey(["crawl", "pages"])


def history_start(today: date | None = None) -> str:
    """First partition: the first of the month 16 months back (Search Console's retention).

    Month-aligned so the partition set only changes once a month; older days would come back
    empty from the API anyway.
    """
    today = today or pacific_today()
    month_index = today.year * 12 + today.month - 1 - 16
    return date(month_index // 12, month_index % 12 + 1, 1).isoformat()


site_partitions = dg.StaticPartitionsDefinition(site_ids())
gsc_daily_partitions = dg.MultiPartitionsDefinition(
    {
        "site": site_partitions,
        "date": dg.DailyPartitionsDefinition(start_date=history_start(), timezone=GSC_TIMEZONE),
    }
)


def secret_env(gsc: GscSettings) -> dict[str, str]:
    """The environment the site's auth may read, through `EnvVar` (values never logged)."""
    env: dict[str, str] = {}
    for name in gsc.secret_env_names():
        value = dg.EnvVar(name).get_value()
        if value:
            env[name] = value
    return env


@dg.asset(
    key=SEARCH_ANALYTICS,
    partitions_def=gsc_daily_partitions,
    group_name="gsc",
    pool="gsc",
    kinds={"python", "parquet"},
    description=(
        "Search Console search analytics of one site and one Pacific day (date, page, query, "
        "device, country by default): final data, or fresh data flagged provisional until the "
        "day settles. Lands landing/gsc/<site>/search_analytics/date=<day>/ whole or not at all."
    ),
)
def search_analytics(
    context: dg.AssetExecutionContext, settings: LinkwarehouseSettings
) -> dg.MaterializeResult:
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    site = settings.config().site(keys["site"])
    day = date.fromisoformat(keys["date"])
    try:
        gsc = site_gsc_settings(site)
        (result,) = pull_days(site, day, day, gsc=gsc, base=settings.data_path, env=secret_env(gsc))
    except GscError as exc:
        raise dg.Failure(description=str(exc)) from None
    return dg.MaterializeResult(metadata=day_metadata(result))


def day_metadata(result: DayResult) -> dict[str, object]:
    return {
        "dagster/row_count": result.rows,
        "rows": result.rows,
        "days": 1,
        "provisional_rows": result.provisional_rows,
        "data_state": result.data_state,
        "first_incomplete_date": str(result.first_incomplete_date or ""),
        "clicks": result.clicks,
        "impressions": result.impressions,
        "pages": result.pages,
        "queries": result.queries,
        "requests": result.requests,
        "path": dg.MetadataValue.path(str(result.path)),
        "preview": dg.MetadataValue.md(_top_queries(result)),
    }


def _top_queries(result: DayResult, n: int = 10) -> str:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(result.path, columns=["query", "clicks", "impressions", "position"])
    state = "provisional" if result.is_provisional else "final"
    lines = [f"**{result.day}** ({state}): {result.rows} rows", ""]
    if not table.num_rows or table["query"].null_count == table.num_rows:
        return "\n".join(lines)
    grouped = table.group_by("query").aggregate([("clicks", "sum"), ("impressions", "sum")])
    order = pc.sort_indices(grouped, sort_keys=[("clicks_sum", "descending")])
    top = grouped.take(order[:n]).to_pylist()
    lines += ["| query | clicks | impressions |", "|---|---:|---:|"]
    lines += [
        f"| {str(row['query']).replace('|', '/')} | {row['clicks_sum']} | {row['impressions_sum']} |"
        for row in top
    ]
    return "\n".join(lines)


class UrlInspectionConfig(dg.Config):
    """Which URLs to inspect; by default the indexable pages of the site's latest crawl."""

    urls: list[str] = Field(default_factory=list, description="URLs to inspect (empty: crawl)")
    max_urls: int | None = Field(default=None, ge=1, description="at most this many URLs")


@dg.asset(
    key=URL_INSPECTION,
    partitions_def=site_partitions,
    deps=[CRAWL_PAGES],
    group_name="gsc",
    pool="gsc",
    kinds={"python", "parquet"},
    description=(
        "URL Inspection (verdict, coverage, canonicals Google chose) for URLs of one site, "
        "within the property's persisted daily budget. One file per run under "
        "landing/gsc/<site>/url_inspection/. A run stopped by a 403 or exhausted retries still "
        "lands what it inspected (quota was spent), recorded as partial, and then fails."
    ),
)
def url_inspection(
    context: dg.AssetExecutionContext,
    config: UrlInspectionConfig,
    settings: LinkwarehouseSettings,
) -> Iterator[dg.AssetMaterialization | dg.MaterializeResult]:
    site = settings.config().site(context.partition_key)
    try:
        gsc = site_gsc_settings(site)
    except GscError as exc:
        raise dg.Failure(description=str(exc)) from None
    urls = list(config.urls) or urls_from_latest_crawl(site.id, settings.data_path)
    if config.max_urls is not None:
        urls = urls[: config.max_urls]
    if not urls:
        raise dg.Failure(
            description=f"nothing to inspect for {site.id}: pass urls in the run config or "
            "materialize crawl/pages first"
        )
    try:
        run = inspect_urls(site, urls, gsc=gsc, base=settings.data_path, env=secret_env(gsc))
    except GscError as exc:
        raise dg.Failure(description=str(exc)) from None
    metadata = inspection_metadata(run)
    if run.failure:
        if run.path is not None:
            # What was inspected before the failure spent quota and has landed: record it as a
            # partial materialization (yielded: `log_event` is dropped when the step fails),
            # then fail the run so the stop is not missed.
            yield dg.AssetMaterialization(
                asset_key=URL_INSPECTION, partition=context.partition_key, metadata=metadata
            )
        raise dg.Failure(description=run.failure, metadata=metadata)
    yield dg.MaterializeResult(metadata=metadata)


def inspection_metadata(run: InspectionRun) -> dict[str, object]:
    metadata: dict[str, object] = {
        "dagster/row_count": len(run.rows),
        "inspected": run.inspected,
        "errors": run.errors,
        "google_chose_other_canonical": run.canonical_mismatches,
        "not_inspected_budget": len(run.skipped_for_budget),
        "not_inspected_failure": len(run.not_inspected_after_failure),
        "partial": run.is_partial,
        "budget_left_today": run.budget_remaining,
        "by_verdict": dict(run.by_verdict),
        "preview": dg.MetadataValue.md(_inspection_preview(run)),
    }
    if run.path is not None:
        metadata["path"] = dg.MetadataValue.path(str(run.path))
    return metadata


def _inspection_preview(run: InspectionRun, n: int = 15) -> str:
    notable = [r for r in run.rows if r["verdict"] != "PASS"][:n]
    if not notable:
        return f"All {run.inspected} inspected URLs pass."
    lines = ["| url | verdict | coverage | Google canonical |", "|---|---|---|---|"]
    for row in notable:
        coverage = row["coverage_state"] or row["error"] or ""
        lines.append(
            f"| {row['url'] or row['inspection_url']} | {row['verdict'] or ''} | {coverage} "
            f"| {row['google_canonical'] or ''} |"
        )
    return "\n".join(lines)


def last_days(today: date, n: int = 4) -> list[date]:
    """The days the daily schedule re-pulls: yesterday and the n-1 before it (Pacific)."""
    return [today - timedelta(days=back) for back in range(1, n + 1)]
