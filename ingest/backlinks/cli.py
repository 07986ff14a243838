"""`linkwarehouse import-backlinks FILE --site ID`: the same import the Dagster asset runs.

It lands the file, merges the site's imports, and prints what was detected and counted. A file
that cannot be imported at all (unknown header, empty, over the archive limits) is one line on
stderr and exit code 1; rows that are refused are not an error, they are counted and quarantined.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ingest.backlinks.formats import BacklinkImportError
from ingest.backlinks.importer import ImportResult, error_message, import_backlinks
from ingest.backlinks.merge import merge_site_backlinks
from ingest.config import load_config


def register(subparsers: Any) -> None:
    """Add the `import-backlinks` subcommand to the `linkwarehouse` parser."""
    parser = subparsers.add_parser(
        "import-backlinks",
        help="import a backlink export (Ahrefs, Semrush, Majestic, Moz, GSC Links)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("file", type=Path, help="the export: CSV/TSV, XLSX, ZIP or gzip")
    parser.add_argument("--site", required=True, help="site id in the config")
    parser.add_argument("--config", type=Path, help="YAML config (default: LINKWAREHOUSE_CONFIG)")
    parser.add_argument(
        "--encoding", help="decode with this encoding instead of detecting it (e.g. cp1252)"
    )
    parser.add_argument(
        "--no-merge", action="store_true", help="land the file without re-merging the site"
    )
    parser.set_defaults(func=run_import_backlinks)


def run_import_backlinks(args: argparse.Namespace) -> int:
    from ingest.cli import EXIT_USAGE, CliError

    site = load_config(args.config).site(args.site)
    if not args.file.is_file():
        raise CliError(f"no such file: {args.file}", EXIT_USAGE)
    try:
        result = import_backlinks(args.file, site, encoding=args.encoding)
    except BacklinkImportError as exc:
        raise CliError(error_message(args.file.name, exc)) from None
    for line in summary_lines(result):
        print(line)
    if not args.no_merge:
        merged = merge_site_backlinks(site.id)
        print(
            f"merged {merged.rows_in:,} link rows of {merged.files} file(s) into "
            f"{merged.merged_rows:,} links ({merged.merged_duplicates:,} duplicates merged, "
            f"{merged.multi_vendor_links:,} seen by several vendors): {merged.path}"
        )
    return 0


def summary_lines(result: ImportResult) -> list[str]:
    """What a person wants to read after an import: format, counts, reasons, where it went."""
    lines = []
    for m in result.members:
        reasons = ", ".join(f"{k} {v:,}" for k, v in m.reasons.items())
        lines.append(
            f"{m.name}: {m.label} ({m.encoding}, {m.delimiter}): {m.rows_in:,} rows in, "
            f"{m.landed:,} landed, {m.quarantined:,} quarantined"
            + (f" ({reasons})" if reasons else "")
            + (f", {m.blank_rows:,} blank" if m.blank_rows else "")
        )
        lines.extend(f"  warning: {w}" for w in m.warnings)
        if m.unrecognized_columns:
            lines.append(f"  columns kept out of the table: {', '.join(m.unrecognized_columns)}")
    for skipped in result.skipped:
        lines.append(f"{skipped['name']}: skipped: {skipped['reason']}")
    lines.append(
        f"total: {result.rows_in:,} rows in = {result.landed:,} landed + "
        f"{result.quarantined:,} quarantined + {result.blank_rows:,} blank; "
        f"{result.duplicates:,} repeated source/target pairs"
    )
    lines.append(f"landed in {result.out_dir}")
    return lines
