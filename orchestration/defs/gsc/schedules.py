"""`gsc_daily_schedule`: re-pull the last 4 days, and every day still provisional, of each site.

Why 4 days: Search Console data settles 2-3 days late, so yesterday lands provisional (fresh
data) and is pulled again each day until its final rows replace it. Why also the landed
provisional days of the last 16: a day whose final data came later than usual (or one landed
provisional by a backfill) would otherwise stay provisional forever; 16 days bounds the look-back
to Search Console's own worst final-data lag and keeps the check to a few Parquet footers. Each
evaluation asks for one run per site x day; the run key carries the evaluation date, so the same
day is re-requested on the following days instead of being deduplicated away.
"""

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg

from ingest.config import ConfigError
from ingest.gsc.budget import PACIFIC
from ingest.gsc.landing import provisional_days
from orchestration.defs.gsc.assets import GSC_TIMEZONE, gsc_daily_partitions, last_days
from orchestration.lib.settings import LinkwarehouseSettings

REPULL_DAYS = 4
PROVISIONAL_WINDOW_DAYS = 16

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


def days_to_pull(site_id: str, today: date, settings: LinkwarehouseSettings) -> list[date]:
    """The last `REPULL_DAYS` days, then older landed days of the window still provisional."""
    recent = last_days(today, REPULL_DAYS)
    since = today - timedelta(days=PROVISIONAL_WINDOW_DAYS)
    stale = provisional_days(site_id, since, min(recent) - timedelta(days=1), settings.data_path)
    return recent + sorted(stale, reverse=True)


@dg.schedule(
    name="gsc_daily_schedule",
    job=gsc_search_analytics_job,
    cron_schedule="0 6 * * *",
    execution_timezone=GSC_TIMEZONE,
    description=(
        f"Every morning (Pacific), re-pull the last {REPULL_DAYS} days of each site and any "
        f"landed day of the last {PROVISIONAL_WINDOW_DAYS} that is still provisional."
    ),
)
def gsc_daily_schedule(
    context: dg.ScheduleEvaluationContext, settings: LinkwarehouseSettings
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    today = context.scheduled_execution_time.astimezone(PACIFIC).date()
    try:
        configured = [s.id for s in settings.config().sites if getattr(s, "gsc", None) is not None]
    except ConfigError as exc:
        yield dg.SkipReason(f"config cannot be read: {exc}")
        return
    if not configured:
        yield dg.SkipReason("no site has a gsc section in the config")
        return
    known = set(gsc_daily_partitions.get_partitions_def_for_dimension("site").get_partition_keys())
    unknown = [s for s in configured if s not in known]
    if unknown:
        # The site partitions are read from the config when the code location loads.
        context.log.warning(
            "gsc sites %s have a gsc section but are not partitions of gsc/search_analytics "
            "yet; reload the code location to pull them",
            ", ".join(unknown),
        )
    sites = [s for s in configured if s in known]
    if not sites:
        yield dg.SkipReason(
            f"the sites with a gsc section ({', '.join(unknown)}) are not partitions of "
            "gsc/search_analytics: partitions are read from the config when the code location "
            "loads; reload it (or restart dagster) after adding a site"
        )
        return
    for site_id in sites:
        for day in days_to_pull(site_id, today, settings):
            key = dg.MultiPartitionKey({"site": site_id, "date": day.isoformat()})
            yield dg.RunRequest(run_key=f"gsc|{site_id}|{day}|{today}", partition_key=key)
