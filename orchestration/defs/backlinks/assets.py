"""Backlink assets: one dynamic partition per dropped export file, and the per-site merge.

Thin wiring over `ingest.backlinks`: the partition key names the site and the file's content hash
(`<site>:<sha256[:16]>:<name>`), the body finds the file in the drop folder, imports it and turns
the counts into metadata people read in the UI (rows in = landed + quarantined, the reasons, a
Markdown preview of the refused rows). Re-materializing a partition rewrites the same landing
folder with the same rows: the import is idempotent by content hash.
"""

from typing import Any

import dagster as dg

from ingest.backlinks.dropfolder import drop_dir, find_drop_file, parse_partition_key
from ingest.backlinks.formats import BacklinkImportError
from ingest.backlinks.importer import ImportResult, error_message, import_backlinks
from ingest.backlinks.merge import MergeResult, merge_site_backlinks
from orchestration.lib.settings import LinkwarehouseSettings

BACKLINKS = dg.AssetKey(["backlinks", "backlinks"])
BACKLINKS_QUARANTINE = dg.AssetKey(["backlinks", "backlinks_quarantine"])
BACKLINKS_MERGED = dg.AssetKey(["backlinks", "backlinks_merged"])

backlink_files = dg.DynamicPartitionsDefinition(name="backlink_files")


@dg.multi_asset(
    name="backlinks_import",
    specs=[
        dg.AssetSpec(
            BACKLINKS,
            description="Normalized backlinks of one imported export file (backlinks.parquet).",
        ),
        dg.AssetSpec(
            BACKLINKS_QUARANTINE,
            description="Refused rows of the file with their reason (backlinks_quarantine.parquet).",
        ),
    ],
    partitions_def=backlink_files,
    group_name="backlinks",
)
def backlinks_import(context: dg.AssetExecutionContext, settings: LinkwarehouseSettings):
    """Import the partition's file from `$LINKWAREHOUSE_DATA/imports/backlinks/<site>/`."""
    key = parse_partition_key(context.partition_key)
    site = settings.config().site(key.site)
    path = find_drop_file(context.partition_key, settings.data_path)
    if path is None:
        raise dg.Failure(
            description=(
                f"no file with content hash {key.hash16} in {drop_dir(key.site, settings.data_path)}"
                f" (was {key.name} moved or changed?)"
            )
        )
    try:
        result = import_backlinks(path, site, settings.data_path)
    except BacklinkImportError as exc:
        raise dg.Failure(description=error_message(path.name, exc)) from None
    context.log.info(
        f"{path.name}: {result.rows_in} rows in, {result.landed} landed, "
        f"{result.quarantined} quarantined, {result.blank_rows} blank"
    )
    for warning in result.warnings:
        context.log.warning(warning)
    counts = import_metadata(result)
    yield dg.MaterializeResult(
        asset_key=BACKLINKS,
        metadata={
            **counts,
            "dagster/row_count": result.landed,
            "path": dg.MetadataValue.path(str(result.backlinks_path)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=BACKLINKS_QUARANTINE,
        metadata={
            **counts,
            "dagster/row_count": result.quarantined,
            "path": dg.MetadataValue.path(str(result.quarantine_path)),
            "quarantine_preview": dg.MetadataValue.md(quarantine_preview(result)),
        },
    )


@dg.asset(
    key=BACKLINKS_MERGED,
    deps=[dg.AssetDep(BACKLINKS, partition_mapping=dg.AllPartitionMapping())],
    group_name="backlinks",
    description="One row per link per site across every vendor and file (backlinks_merged.parquet).",
)
def backlinks_merged(context: dg.AssetExecutionContext, settings: LinkwarehouseSettings):
    """Merge every site's imports: duplicates across vendors become one row with each vendor's fields."""
    results = [merge_site_backlinks(s.id, settings.data_path) for s in settings.config().sites]
    total_in = sum(r.rows_in for r in results)
    merged = sum(r.merged_rows for r in results)
    context.log.info(f"merged {total_in} link rows into {merged} links")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": merged,
            "rows_in": total_in,
            "merged_rows": merged,
            "merged_duplicates": total_in - merged,
            "multi_vendor_links": sum(r.multi_vendor_links for r in results),
            "by_site": dg.MetadataValue.md(merge_table(results)),
        }
    )


def import_metadata(result: ImportResult) -> dict[str, Any]:
    """The counts every import reports: `rows_in == landed + quarantined + blank_rows`, always.

    Blank records (every cell empty) are shown, not hidden in the difference, so the identity can
    be checked by reading the metadata alone.
    """
    return {
        "file": result.file,
        "content_hash": result.file_hash,
        "site": result.site,
        "formats": ", ".join(f"{m.label} ({m.encoding}, {m.delimiter})" for m in result.members),
        "rows_in": result.rows_in,
        "landed": result.landed,
        "quarantined": result.quarantined,
        "blank_rows": result.blank_rows,
        "merged_duplicates": result.duplicates,
        "quarantine_reasons": dg.MetadataValue.json(result.reasons),
        "skipped_members": dg.MetadataValue.json(result.skipped),
        "warnings": dg.MetadataValue.json(result.warnings),
    }


def _md(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def quarantine_preview(result: ImportResult) -> str:
    """The first refused rows as a Markdown table (cells escaped, long values cut)."""
    if not result.preview:
        return "No row was quarantined."
    lines = [
        "| file | row | reason | detail | source | target |",
        "|---|---:|---|---|---|---|",
    ]
    for row in result.preview:
        lines.append(
            f"| {_md(row['file'])} | {row['row_number']} | {row['reason']} | {_md(row['detail'])} "
            f"| {_md(row['source_url_raw'])} | {_md(row['target_url_raw'])} |"
        )
    if result.quarantined > len(result.preview):
        lines.append(f"\n{result.quarantined - len(result.preview)} more in the quarantine file.")
    return "\n".join(lines)


def merge_table(results: list[MergeResult]) -> str:
    lines = [
        "| site | files | rows in | links | duplicates merged | several vendors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.site} | {r.files} | {r.rows_in} | {r.merged_rows} | {r.merged_duplicates} "
            f"| {r.multi_vendor_links} |"
        )
    return "\n".join(lines)
