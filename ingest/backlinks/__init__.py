"""Backlink exports (Ahrefs, Semrush, Majestic, Moz, GSC Links) into normalized landing Parquet.

    from ingest.backlinks import import_backlinks, merge_site_backlinks
    result = import_backlinks("shop-backlinks.csv", load_config().site("shop"))
    merge_site_backlinks("shop")

Modules: `formats` (vendor header alias tables, detection), `sniff` (encoding, delimiter),
`containers` (ZIP/XLSX/gzip with limits), `values` (locale numbers, dates, flags), `normalize`
(rows -> columns or quarantine reasons), `importer` (streaming import and landing), `merge`
(one row per link across vendors), `dropfolder` (drop folder and partition keys), `schema`
(Parquet schemas), `cli` (`linkwarehouse import-backlinks`). See docs/backlinks.md.
"""

from ingest.backlinks.containers import ArchiveLimits, ArchiveRefusedError
from ingest.backlinks.formats import (
    BacklinkImportError,
    NotABacklinkReportError,
    UnknownHeaderError,
    detect_format,
)
from ingest.backlinks.importer import ImportResult, MemberReport, import_backlinks
from ingest.backlinks.merge import MergeResult, merge_site_backlinks
from ingest.backlinks.sniff import EmptyFileError

__all__ = [
    "ArchiveLimits",
    "ArchiveRefusedError",
    "BacklinkImportError",
    "EmptyFileError",
    "ImportResult",
    "MemberReport",
    "MergeResult",
    "NotABacklinkReportError",
    "UnknownHeaderError",
    "detect_format",
    "import_backlinks",
    "merge_site_backlinks",
]
