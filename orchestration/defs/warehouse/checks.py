"""Asset checks of the warehouse beyond its dbt tests (each dbt test is already a check).

They read what people act on: whether the PageRank iteration actually converged, and whether
orphans could be computed at all (an incomplete crawl makes every site without orphans look
clean).
"""

from __future__ import annotations

import dagster as dg

from linking.warehouse import orphan_status_by_site, page_scores_run_info
from orchestration.defs.warehouse.assets import PAGE_SCORES, WAREHOUSE_POOL
from orchestration.lib.settings import LinkwarehouseSettings

ORPHAN_PAGES = dg.AssetKey(["warehouse", "orphan_pages"])


@dg.asset_check(asset=PAGE_SCORES, blocking=True)
def every_pagerank_variant_converged(settings: LinkwarehouseSettings) -> dg.AssetCheckResult:
    """Blocking: scores from an iteration that stopped early must not reach the marts."""
    runs = page_scores_run_info(settings.data_path)
    failed = {
        f"{site}/{variant}": run["iterations"]
        for site, info in runs.items()
        for variant, run in info.get("runs", {}).items()
        if not run.get("converged", False)
    }
    return dg.AssetCheckResult(
        passed=not failed,
        metadata={"sites": sorted(runs), "not_converged": failed},
    )


@dg.asset_check(asset=ORPHAN_PAGES, pool=WAREHOUSE_POOL, blocking=False)
def orphans_are_computed_from_a_complete_crawl(
    settings: LinkwarehouseSettings,
) -> dg.AssetCheckResult:
    """Warns for each site whose latest crawl is incomplete (or missing): no orphans there."""
    status = orphan_status_by_site(settings.data_path)
    not_computed = {site: state for site, state in status.items() if state != "orphan"}
    return dg.AssetCheckResult(
        passed=not not_computed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"sites": sorted(status), "not_computed": not_computed},
        description=(
            "orphans need a complete crawl; rerun the crawl without limits for: "
            + ", ".join(sorted(not_computed))
            if not_computed
            else "every site's latest crawl is complete"
        ),
    )


warehouse_checks = [every_pagerank_variant_converged, orphans_are_computed_from_a_complete_crawl]
