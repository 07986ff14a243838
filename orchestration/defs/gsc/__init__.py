"""Search Console in Dagster: `build_defs()` is merged into `orchestration.definitions`."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    """Assets, jobs and the daily schedule; the `settings` resource comes from the caller."""
    from orchestration.defs.gsc.assets import search_analytics, url_inspection
    from orchestration.defs.gsc.schedules import (
        gsc_daily_schedule,
        gsc_search_analytics_job,
        gsc_url_inspection_job,
    )

    return dg.Definitions(
        assets=[search_analytics, url_inspection],
        jobs=[gsc_search_analytics_job, gsc_url_inspection_job],
        schedules=[gsc_daily_schedule],
    )
