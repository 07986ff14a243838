"""Assembles the Dagster Definitions: thin wiring over the ingest and linking libraries."""

from __future__ import annotations

import dagster as dg

from orchestration.defs import backlinks, gsc, sitemaps, warehouse
from orchestration.defs.crawl.assets import crawl, site_partitions
from orchestration.lib.settings import settings_resource

crawl_job = dg.define_asset_job(
    "crawl_job",
    selection=dg.AssetSelection.assets(crawl),
    partitions_def=site_partitions,
    description="Crawl one site (partition = site id) into landing Parquet.",
)

defs = dg.Definitions.merge(
    dg.Definitions(
        assets=[crawl],
        jobs=[crawl_job],
        resources={"settings": settings_resource()},
    ),
    sitemaps.build_defs(),
    gsc.build_defs(),
    backlinks.build_defs(),
    warehouse.build_defs(),
)
