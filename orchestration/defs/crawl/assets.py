"""The crawl asset: one partition per configured site, landing pages, links and errors.

No `from __future__ import annotations` here: Dagster inspects the `context` annotation at
definition time and rejects it when it is a string.
"""

import dagster as dg

from ingest.crawl.crawler import crawl_site
from ingest.crawl.report import RunReport, report_run
from ingest.paths import crawl_run_dir_for
from orchestration.lib.settings import LinkwarehouseSettings, site_ids

site_partitions = dg.StaticPartitionsDefinition(site_ids())

CRAWL_PAGES = dg.AssetKey(["crawl", "pages"])
CRAWL_LINKS = dg.AssetKey(["crawl", "links"])
CRAWL_ERRORS = dg.AssetKey(["crawl", "errors"])


@dg.multi_asset(
    name="crawl",
    specs=[
        dg.AssetSpec(CRAWL_PAGES, description="One row per crawled URL (pages.parquet)."),
        dg.AssetSpec(CRAWL_LINKS, description="Every link with its position (links.parquet)."),
        dg.AssetSpec(CRAWL_ERRORS, description="Fetch errors and skipped URLs (errors.parquet)."),
    ],
    partitions_def=site_partitions,
    group_name="crawl",
    pool="crawl",
)
def crawl(context: dg.AssetExecutionContext, settings: LinkwarehouseSettings):
    """Crawl the partition's site; an unfinished earlier run of the site is resumed."""
    site = settings.config().site(context.partition_key)
    run_dir = crawl_run_dir_for(site.id, settings.data_path)
    context.log.info(f"crawling {site.start_urls[0]} into {run_dir}")

    def log_progress(progress: object) -> None:
        context.log.info(f"crawl progress: {progress}")

    crawl_site(site, run_dir, progress=log_progress)
    report = report_run(run_dir)
    if report.stop_reason == "error_rate":
        raise dg.Failure(
            description=f"crawl of {site.id} stopped: the error rate stayed over the threshold",
            metadata=_run_metadata(report),
        )
    common = _run_metadata(report)
    yield dg.MaterializeResult(
        asset_key=CRAWL_PAGES,
        metadata={**common, "dagster/row_count": report.pages, "by_state": report.pages_by_state},
    )
    yield dg.MaterializeResult(
        asset_key=CRAWL_LINKS,
        metadata={
            "dagster/row_count": report.links,
            "run_dir": dg.MetadataValue.path(str(run_dir)),
            "by_position": dg.MetadataValue.md(_position_table(report)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CRAWL_ERRORS,
        metadata={
            "dagster/row_count": report.errors,
            "run_dir": dg.MetadataValue.path(str(run_dir)),
            "by_kind": report.errors_by_kind,
        },
    )


def _run_metadata(report: RunReport) -> dict[str, object]:
    return {
        "pages": report.pages,
        "links": report.links,
        "errors": report.errors,
        "pages_per_s": float(report.pages_per_s or 0.0),
        "complete": report.complete,
        "stop_reason": report.stop_reason or "",
        "run_dir": dg.MetadataValue.path(str(report.run_dir)),
    }


def _position_table(report: RunReport) -> str:
    rows = sorted(report.links_by_position.items(), key=lambda kv: -kv[1])
    lines = ["| position | links |", "|---|---:|"]
    lines += [f"| {position} | {n} |" for position, n in rows]
    return "\n".join(lines)
