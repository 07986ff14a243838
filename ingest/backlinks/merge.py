"""Merge every imported file of a site into one row per link (source page -> target page).

Why a merge at all: the same link is reported by Ahrefs, Semrush and Majestic, each with its own
anchor, dates and authority metric, and re-exported every month. Counting it three times would
triple its weight downstream. One merged row per `(source_key, target_key)` keeps every vendor's
observation in `observations` (nothing a vendor said is lost) and folds the rest: the link's
state (lost, nofollow, ugc, sponsored) is what the most recent observation that reports it says,
because a link live in January's export and lost in March's is lost, whichever vendor saw what;
"most recent" is the latest `last_seen`, then the latest import (`imported_at` of the file's
`import.json`), then the later row. First seen is the earliest, last seen the latest, authority
the highest 0-100 value.

GSC `Latest links` rows (a linking page, no target page) merge by source page alone; GSC's summary
reports (linking sites, linked pages) are counts, not links, and stay out of the merge.

DuckDB (in memory, not the warehouse file) does the grouping: it streams the landing Parquet and
spills to disk, so a merge of millions of rows needs no more memory than its limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from ingest.backlinks.importer import read_import
from ingest.backlinks.schema import MERGED_SCHEMA
from ingest.landing import atomic_path
from ingest.paths import landing_dir

MERGED_FILE = "backlinks_merged.parquet"

_OBSERVATION_FIELDS = (
    "vendor",
    "report",
    "file",
    "file_hash",
    "row_number",
    "anchor_text",
    "is_nofollow",
    "is_ugc",
    "is_sponsored",
    "link_type",
    "first_seen",
    "last_seen",
    "is_lost",
    "authority_raw",
    "authority_metric",
    "authority_0_100",
)

# The newest observation that reports a state decides it: observations without last_seen rank
# below those with one, ties go to the later import, then to the later row of the same file.
_NEWEST = "ORDER BY last_seen DESC NULLS LAST, imported_at DESC NULLS LAST, row_number DESC"


def _newest(column: str) -> str:
    return f"first({column} {_NEWEST}) FILTER (WHERE {column} IS NOT NULL)"


_MERGE_SQL = f"""
WITH observed AS (
    SELECT rows.*, imports.imported_at
    FROM read_parquet(?, union_by_name = true, filename = true) AS rows
    LEFT JOIN imports ON imports.path = rows.filename
    WHERE grain IN ('link', 'linking_page')
)
SELECT
    any_value(source_url) AS source_url,
    source_key,
    any_value(source_domain) AS source_domain,
    any_value(target_url) AS target_url,
    target_key,
    list_sort(list_distinct(list(vendor))) AS vendors,
    count(*) AS n_observations,
    list_sort(list_distinct(list(anchor_text))) AS anchor_texts,
    {_newest("is_nofollow")} AS is_nofollow,
    {_newest("is_ugc")} AS is_ugc,
    {_newest("is_sponsored")} AS is_sponsored,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen,
    {_newest("is_lost")} AS is_lost,
    max(authority_0_100) AS authority_0_100,
    list({{{", ".join(f"'{f}': {f}" for f in _OBSERVATION_FIELDS)}}}
         ORDER BY vendor, file, row_number) AS observations
FROM observed
GROUP BY source_key, target_key
ORDER BY target_key NULLS LAST, source_key
"""


@dataclass(frozen=True)
class MergeResult:
    """Counts of one site's merge: `merged_duplicates = rows_in - merged_rows`."""

    site: str
    path: Path
    files: int
    rows_in: int
    merged_rows: int
    multi_vendor_links: int
    rows_by_vendor: dict[str, int]

    @property
    def merged_duplicates(self) -> int:
        return self.rows_in - self.merged_rows


def imported_files(site_id: str, data_dir: Path | None = None) -> list[Path]:
    """`backlinks.parquet` of every finished import of the site (with an `import.json`)."""
    root = landing_dir("backlinks", site_id, data_dir)
    if not root.is_dir():
        return []
    return [
        d / "backlinks.parquet"
        for d in sorted(root.iterdir())
        if d.is_dir() and (d / "import.json").exists() and (d / "backlinks.parquet").exists()
    ]


def _imported_at(out_dir: Path) -> str | None:
    """When the import in `out_dir` finished (its `import.json`), the merge's recency tie-break."""
    manifest = read_import(out_dir)
    return manifest.get("imported_at") if manifest else None


def merge_site_backlinks(
    site_id: str, data_dir: Path | None = None, memory_limit: str = "1GB"
) -> MergeResult:
    """Write `landing/backlinks/<site>/backlinks_merged.parquet` from every import of the site."""
    import duckdb

    files = imported_files(site_id, data_dir)
    out = landing_dir("backlinks", site_id, data_dir) / MERGED_FILE
    paths = [str(f) for f in files]
    with duckdb.connect() as con:
        con.execute(f"SET threads = 2; SET memory_limit = '{memory_limit}'")
        con.execute("CREATE TEMP TABLE imports (path VARCHAR, imported_at TIMESTAMPTZ)")
        if paths:
            con.executemany(
                "INSERT INTO imports VALUES (?, ?)",
                [[str(f), _imported_at(f.parent)] for f in files],
            )
        rows_by_vendor: dict[str, int] = {}
        if paths:
            rows_by_vendor = dict(
                con.execute(
                    "SELECT vendor, count(*) FROM read_parquet(?, union_by_name = true) "
                    "WHERE grain IN ('link', 'linking_page') GROUP BY vendor ORDER BY vendor",
                    [paths],
                ).fetchall()
            )
        merged = multi = 0
        with atomic_path(out) as tmp, pq.ParquetWriter(tmp, MERGED_SCHEMA, compression="zstd") as w:
            if paths:
                reader = con.execute(_MERGE_SQL, [paths]).fetch_record_batch(100_000)
                for batch in reader:
                    table = batch_to_table(batch)
                    merged += table.num_rows
                    multi += sum(1 for v in table.column("vendors").to_pylist() if len(v) > 1)
                    w.write_table(table)
            if merged == 0:
                w.write_table(MERGED_SCHEMA.empty_table())
    return MergeResult(
        site=site_id,
        path=out,
        files=len(files),
        rows_in=sum(rows_by_vendor.values()),
        merged_rows=merged,
        multi_vendor_links=multi,
        rows_by_vendor=rows_by_vendor,
    )


def batch_to_table(batch):  # type: ignore[no-untyped-def]
    """A DuckDB record batch cast to the landing schema (exact types, whatever DuckDB chose)."""
    import pyarrow as pa

    return pa.Table.from_batches([batch]).cast(MERGED_SCHEMA)
