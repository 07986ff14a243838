"""The link-equity warehouse in Dagster: `build_defs()` is merged into `orchestration.definitions`.

`materialize_warehouse()` builds the whole warehouse in process (what `make demo` runs after the
ingest jobs); print `linking.warehouse.warehouse_summary()` afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from orchestration.lib.settings import LinkwarehouseSettings

WAREHOUSE_JOB = "warehouse_job"


def build_defs() -> dg.Definitions:
    """dbt branches, the PageRank asset, checks, `warehouse_job` and the `dbt` resource.

    The `settings` resource comes from the caller (orchestration.definitions).
    """
    from orchestration.defs.warehouse.assets import page_scores, warehouse_dbt_assets
    from orchestration.defs.warehouse.checks import warehouse_checks
    from orchestration.lib.dbt import dbt_resource

    assets = [*warehouse_dbt_assets, page_scores]
    job = dg.define_asset_job(
        WAREHOUSE_JOB,
        selection=dg.AssetSelection.assets(*assets),
        description="Build the whole warehouse: dbt models, PageRank, marts (landing data as is).",
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=warehouse_checks,
        jobs=[job],
        resources={"dbt": dbt_resource()},
    )


def materialize_warehouse(
    instance: dg.DagsterInstance | None = None,
    settings: LinkwarehouseSettings | None = None,
    *,
    raise_on_error: bool = False,
) -> dg.ExecuteInProcessResult:
    """Run `warehouse_job` in this process (for `make demo` and notebooks).

    `instance` defaults to `DagsterInstance.get()` (the `$DAGSTER_HOME` one, so the run shows in
    `make ui`); `settings` to the environment's (`LINKWAREHOUSE_DATA`, `LINKWAREHOUSE_CONFIG`).
    """
    from orchestration.lib.settings import settings_resource

    defs = dg.Definitions.merge(
        build_defs(), dg.Definitions(resources={"settings": settings or settings_resource()})
    )
    job = defs.resolve_job_def(WAREHOUSE_JOB)
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.get(), raise_on_error=raise_on_error
    )
