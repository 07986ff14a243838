"""`gsc_daily_schedule`: re-pull the last 4 days of every site with Search Console settings.

Why 4 days: Search Console data settles 2-3 days late, so yesterday lands provisional (fresh
data) and is pulled again each day until its final rows replace it. Each evaluation asks for one
run per site x day; the run key carries the evaluation date, so the same day is re-requested on
the following days instead of being deduplicated away.
"""

from collections.abc import Iterator

import dagster as dg

from ingest.config import ConfigError
from ingest.gsc.budget import PACIFIC
from orchestration.defs.gsc.assets import GSC_TIMEZONE, gsc_daily_partitions, last_days
from orchestration.lib.settings import LinkwarehouseSettings

REPULL_DAYS = 4

gsc_search_analytics_job = dg.define_asset_job(
    "gsc_search_analytics_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["gsc", "search_analytics"])),
    partitions_def=gsc_daily_partitions,
    description="Pull one site x day of Search Console search analytics into landing Parquet.",
)

gsc_url_inspection_job = dg.define_asset_job(
    "gsc_url_inspection_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["gsc", "url_inspection"])),
    description="Inspect URLs of one site (partition = site id) with the URL Inspection API.",
)


@dg.schedule(
    name="gsc_daily_schedule",
    job=gsc_search_analytics_job,
    cron_schedule="0 6 * * *",
    execution_timezone=GSC_TIMEZONE,
    description=f"Every morning (Pacific), re-pull the last {REPULL_DAYS} days of each site.",
)
def gsc_daily_schedule(
    context: dg.ScheduleEvaluationContext, settings: LinkwarehouseSettings
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    today = context.scheduled_execution_time.astimezone(PACIFIC).date()
    try:
        sites = [s.id for s in settings.config().sites if getattr(s, "gsc", None) is not None]
    except ConfigError as exc:
        yield dg.SkipReason(f"config cannot be read: {exc}")
        return
    known = set(gsc_daily_partitions.get_partitions_def_for_dimension("site").get_partition_keys())
    sites = [s for s in sites if s in known]
    if not sites:
        yield dg.SkipReason("no site has a gsc section in the config")
        return
    for site_id in sites:
        for day in last_days(today, REPULL_DAYS):
            key = dg.MultiPartitionKey({"site": site_id, "date": day.isoformat()})
            yield dg.RunRequest(run_key=f"gsc|{site_id}|{day}|{today}", partition_key=key)
