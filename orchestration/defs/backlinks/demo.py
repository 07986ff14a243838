"""`make demo`'s backlink step: drop the demo exports and let the sensor's runs import them.

The demo run calls `import_demo_backlinks` after the crawl. It does what the daemon would do on a
running `dagster dev`: write the sample exports into the drop folder, evaluate
`backlinks_sensor`, execute the runs it asks for in process, and evaluate it again for the merge.
"""

import os
import time
from pathlib import Path

import dagster as dg

from demo.backlinks.generate import DEFAULT_BASE, EXPORTS, write_demo_exports
from ingest.backlinks.dropfolder import drop_dir
from orchestration.defs.backlinks import build_defs
from orchestration.defs.backlinks.sensors import SETTLE_S, backlinks_sensor
from orchestration.lib.settings import LinkwarehouseSettings


def drop_demo_exports(
    data_dir: Path, base_url: str = DEFAULT_BASE, site_id: str = "demo"
) -> list[Path]:
    """The committed exports for the default port; regenerated for the shop's actual base URL."""
    folder = drop_dir(site_id, data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if base_url.rstrip("/") == DEFAULT_BASE:
        paths = []
        for source in sorted(EXPORTS.iterdir()):
            target = folder / source.name
            target.write_bytes(source.read_bytes())
            paths.append(target)
    else:
        paths = write_demo_exports(folder, base_url)
    settled = time.time() - SETTLE_S - 1
    for path in paths:
        os.utime(path, (settled, settled))
    return paths


def import_demo_backlinks(
    instance: dg.DagsterInstance, data_dir: Path, base_url: str = DEFAULT_BASE
) -> list[str]:
    """Import the demo exports through the sensor and the jobs; return lines to print."""
    settings = LinkwarehouseSettings(data_dir=str(data_dir))
    defs = build_defs({"settings": settings})
    drop_demo_exports(data_dir, base_url)
    lines: list[str] = []
    cursor = None
    for _ in range(3):  # imports, then the merge, then nothing left to do
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"settings": settings}
        )
        result = backlinks_sensor(context)
        assert isinstance(result, dg.SensorResult)
        cursor = result.cursor
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        if not result.run_requests:
            break
        for request in result.run_requests:
            job = defs.resolve_job_def(request.job_name)
            run = job.execute_in_process(
                partition_key=request.partition_key, instance=instance, raise_on_error=False
            )
            lines.append(_describe(request, run))
    return lines


def _describe(request: dg.RunRequest, run: dg.ExecuteInProcessResult) -> str:
    if not run.success:
        return f"backlinks: {request.job_name} {request.partition_key or ''} failed"
    for node in ("backlinks_import", "backlinks__backlinks_merged"):
        for event in run.asset_materializations_for_node(node):
            meta = event.metadata
            if "landed" in meta and event.asset_key.path[-1] == "backlinks":
                return (
                    f"backlinks: {meta['file'].value}: {meta['rows_in'].value} rows in, "
                    f"{meta['landed'].value} landed, {meta['quarantined'].value} quarantined"
                )
            if "merged_rows" in meta:
                return (
                    f"backlinks: merged {meta['rows_in'].value} link rows into "
                    f"{meta['merged_rows'].value} links ({meta['multi_vendor_links'].value} "
                    "seen by several vendors)"
                )
    return f"backlinks: {request.job_name} done"
