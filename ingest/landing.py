"""The landing contract: Parquet schemas of every file the ingest layer writes, written atomically.

dbt reads these files as sources, so a schema change here is an interface change: add columns,
never rename them silently. Every write goes to a temporary file in the same folder and is renamed
into place, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REDIRECT_HOP = pa.struct([("url", pa.string()), ("status", pa.int32())])
HREFLANG = pa.struct([("lang", pa.string()), ("href", pa.string())])

PAGES_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("url_key", pa.string()),
        ("requested_url", pa.string()),
        ("final_url", pa.string()),
        ("status", pa.int32()),
        ("final_status", pa.int32()),
        ("redirect_chain", pa.list_(REDIRECT_HOP)),
        ("crawl_state", pa.string()),
        ("content_type", pa.string()),
        ("is_html", pa.bool_()),
        ("depth", pa.int32()),
        ("found_on", pa.string()),
        # how the crawl came to the URL: start_url | link | redirect | sitemap
        ("discovered_via", pa.string()),
        ("canonical", pa.string()),
        ("canonical_source", pa.string()),
        ("meta_robots", pa.string()),
        ("x_robots_tag", pa.string()),
        ("is_indexable", pa.bool_()),
        ("indexability_reason", pa.string()),
        ("title", pa.string()),
        ("h1", pa.string()),
        ("meta_description", pa.string()),
        ("word_count", pa.int32()),
        ("content_hash", pa.string()),
        ("hreflang", pa.list_(HREFLANG)),
        ("base_href", pa.string()),
        ("encoding", pa.string()),
        ("body_text", pa.string()),
        ("n_links", pa.int32()),
        ("bytes", pa.int64()),
        ("truncated", pa.bool_()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("response_ms", pa.float64()),
        ("error", pa.string()),
    ]
)

LINKS_SCHEMA = pa.schema(
    [
        ("source_url", pa.string()),
        ("source_key", pa.string()),
        ("target_url", pa.string()),
        ("target_key", pa.string()),
        ("anchor_text", pa.string()),
        ("position", pa.string()),
        ("link_index", pa.int32()),
        ("is_internal", pa.bool_()),
        ("is_nofollow", pa.bool_()),
        ("is_ugc", pa.bool_()),
        ("is_sponsored", pa.bool_()),
        ("is_image", pa.bool_()),
        ("rel", pa.string()),
        ("href_raw", pa.string()),
    ]
)

ERRORS_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("url_key", pa.string()),
        ("stage", pa.string()),
        ("kind", pa.string()),
        ("message", pa.string()),
        ("status", pa.int32()),
        ("found_on", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "pages": PAGES_SCHEMA,
    "links": LINKS_SCHEMA,
    "errors": ERRORS_SCHEMA,
}


def table_from_rows(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Build a table with exactly `schema`'s columns; a missing key is null, an extra key an error."""
    rows = list(rows)
    names = set(schema.names)
    for row in rows:
        extra = set(row) - names
        if extra:
            raise KeyError(f"columns not in the landing schema: {sorted(extra)}")
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.table(columns, schema=schema)


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path next to `final`; rename it into place only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_table(table: pa.Table, final: Path) -> Path:
    with atomic_path(final) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return final


def write_rows(rows: Iterable[Mapping[str, Any]], schema: pa.Schema, final: Path) -> Path:
    return write_table(table_from_rows(rows, schema), final)


def write_json(data: Mapping[str, Any], final: Path) -> Path:
    with atomic_path(final) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return final


def concat_parquet(parts: Iterable[Path], schema: pa.Schema, final: Path) -> int:
    """Stream part files into one file row group by row group (memory stays at one row group)."""
    rows = 0
    with atomic_path(final) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for part in parts:
            pf = pq.ParquetFile(part)
            for i in range(pf.num_row_groups):
                group = pf.read_row_group(i).cast(schema)
                rows += group.num_rows
                writer.write_table(group)
    return rows


def read_table(path: Path) -> pa.Table:
    return pq.read_table(path)


def read_crawl_run(run_dir: Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / "crawl_run.json").read_text())
