"""`backlinks_sensor`: watches `$LINKWAREHOUSE_DATA/imports/backlinks/<site>/` for exports.

Every settled file whose content hash is not yet a partition becomes a dynamic partition and a
run of `backlinks_import_job` (run key = partition key, so Dagster never launches it twice). A
file dropped again, under any name, is skipped. Once no new file is waiting and an import landed
since the last merge, one `backlinks_merge_job` run re-merges the sites. The cursor keeps the
hashes of the files already seen, so a large export is read once, not at every tick.
"""

import json

import dagster as dg

from ingest.backlinks.dropfolder import parse_partition_key, scan_drop_folder
from orchestration.defs.backlinks.assets import (
    BACKLINKS,
    backlink_files,
    backlinks_import,
    backlinks_merged,
)
from orchestration.lib.settings import LinkwarehouseSettings

SETTLE_S = 5.0  # a file must be unchanged this long before it is imported (copy in progress)

backlinks_import_job = dg.define_asset_job(
    "backlinks_import_job",
    selection=dg.AssetSelection.assets(backlinks_import),
    partitions_def=backlink_files,
    description="Import one dropped backlink export (partition = site:hash:name).",
)
backlinks_merge_job = dg.define_asset_job(
    "backlinks_merge_job",
    selection=dg.AssetSelection.assets(backlinks_merged),
    description="Merge every imported backlink file per site into one row per link.",
)


def latest_import_id(instance: dg.DagsterInstance) -> int:
    """Storage id of the newest backlinks materialization (any partition), 0 when none."""
    records = instance.fetch_materializations(BACKLINKS, limit=1).records
    return records[0].storage_id if records else 0


@dg.sensor(
    name="backlinks_sensor",
    jobs=[backlinks_import_job, backlinks_merge_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Imports backlink exports dropped in imports/backlinks/<site>/.",
)
def backlinks_sensor(
    context: dg.SensorEvaluationContext, settings: LinkwarehouseSettings
) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    sites = [site.id for site in settings.config().sites]
    files, hashes = scan_drop_folder(sites, settings.data_path, cursor.get("hashes"), SETTLE_S)
    existing = context.instance.get_dynamic_partitions(backlink_files.name)
    known = {(k.site, k.hash16) for k in map(parse_partition_key, existing)}
    new_keys: list[str] = []
    requests: list[dg.RunRequest] = []
    for drop in files:
        identity = (drop.site, drop.sha256[: len(parse_partition_key(drop.partition_key).hash16)])
        if identity in known:
            continue  # the same bytes were imported already, whatever the file is called now
        known.add(identity)
        new_keys.append(drop.partition_key)
        requests.append(
            dg.RunRequest(
                run_key=drop.partition_key,
                partition_key=drop.partition_key,
                job_name=backlinks_import_job.name,
            )
        )
    if not requests:
        latest = latest_import_id(context.instance)
        if latest > cursor.get("merged_after", 0):
            requests.append(
                dg.RunRequest(run_key=f"merge:{latest}", job_name=backlinks_merge_job.name)
            )
            cursor["merged_after"] = latest
    cursor["hashes"] = hashes
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[backlink_files.build_add_request(new_keys)]
        if new_keys
        else [],
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if requests else "no new export and the merge is up to date",
    )
