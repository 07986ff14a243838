"""Sitemaps and robots.txt in Dagster: `build_defs()` is merged into `orchestration.definitions`."""

from __future__ import annotations

import dagster as dg


def build_defs() -> dg.Definitions:
    """The `sitemaps` asset (partitioned by site) and a job per site; `settings` from the caller."""
    from orchestration.defs.crawl.assets import site_partitions
    from orchestration.defs.sitemaps.assets import sitemaps

    sitemaps_job = dg.define_asset_job(
        "sitemaps_job",
        selection=dg.AssetSelection.assets(sitemaps),
        partitions_def=site_partitions,
        description="Read one site's sitemaps and robots.txt (partition = site id) into landing "
        "Parquet.",
    )
    return dg.Definitions(assets=[sitemaps], jobs=[sitemaps_job])
