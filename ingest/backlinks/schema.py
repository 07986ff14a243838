"""Parquet schemas of the backlink landing files (an interface: dbt reads them as sources).

Every imported file lands as one folder `landing/backlinks/<site>/<file_hash16>/` holding
`backlinks.parquet` (one row per accepted input row) and `backlinks_quarantine.parquet` (one row per
refused input row, with the reason), so `rows in = landed + quarantined` can be checked from the
files alone. The per-site merge of every vendor's rows is `backlinks_merged.parquet`.

Columns are only ever added. The issue's contract columns come first; the extras after them say
what grain a row has (GSC summary reports are not link-level) and carry GSC's counts.
"""

from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

# What one row of backlinks.parquet stands for. Vendor link exports are `link` (one source page ->
# one target page); GSC's summary reports are not, and say so instead of being forced into links.
GRAINS = ("link", "linking_page", "linking_site", "target_page")

BACKLINKS_SCHEMA = pa.schema(
    [
        ("source_url", pa.string()),
        ("source_domain", pa.string()),
        ("target_url", pa.string()),
        ("target_key", pa.string()),
        ("anchor_text", pa.string()),
        ("is_nofollow", pa.bool_()),
        ("is_ugc", pa.bool_()),
        ("is_sponsored", pa.bool_()),
        ("link_type", pa.string()),
        ("first_seen", TIMESTAMP),
        ("last_seen", TIMESTAMP),
        ("is_lost", pa.bool_()),
        ("authority_raw", pa.float64()),
        ("authority_metric", pa.string()),
        ("authority_0_100", pa.float64()),
        ("vendor", pa.string()),
        ("report", pa.string()),
        ("file", pa.string()),
        ("row_number", pa.int64()),
        # Extras (added columns, see the module docstring).
        ("source_key", pa.string()),
        ("grain", pa.string()),
        ("n_links", pa.int64()),
        ("n_linking_pages", pa.int64()),
        ("n_linking_sites", pa.int64()),
        ("n_target_pages", pa.int64()),
        ("file_hash", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("file_hash", pa.string()),
        ("row_number", pa.int64()),
        ("vendor", pa.string()),
        ("report", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("source_url_raw", pa.string()),
        ("target_url_raw", pa.string()),
        # The whole input row as a JSON object {column: value}, exactly as read.
        ("raw_row", pa.string()),
    ]
)

OBSERVATION = pa.struct(
    [
        ("vendor", pa.string()),
        ("report", pa.string()),
        ("file", pa.string()),
        ("file_hash", pa.string()),
        ("row_number", pa.int64()),
        ("anchor_text", pa.string()),
        ("is_nofollow", pa.bool_()),
        ("is_ugc", pa.bool_()),
        ("is_sponsored", pa.bool_()),
        ("link_type", pa.string()),
        ("first_seen", TIMESTAMP),
        ("last_seen", TIMESTAMP),
        ("is_lost", pa.bool_()),
        ("authority_raw", pa.float64()),
        ("authority_metric", pa.string()),
        ("authority_0_100", pa.float64()),
    ]
)

MERGED_SCHEMA = pa.schema(
    [
        ("source_url", pa.string()),
        ("source_key", pa.string()),
        ("source_domain", pa.string()),
        ("target_url", pa.string()),
        ("target_key", pa.string()),
        ("vendors", pa.list_(pa.string())),
        ("n_observations", pa.int64()),
        ("anchor_texts", pa.list_(pa.string())),
        ("is_nofollow", pa.bool_()),
        ("is_ugc", pa.bool_()),
        ("is_sponsored", pa.bool_()),
        ("first_seen", TIMESTAMP),
        ("last_seen", TIMESTAMP),
        ("is_lost", pa.bool_()),
        ("authority_0_100", pa.float64()),
        ("observations", pa.list_(OBSERVATION)),
    ]
)

# Why a row was refused. Stable codes: dbt tests and the asset metadata group by them.
QUARANTINE_REASONS = (
    "malformed_row",  # the CSV record itself is broken (bad quoting, unterminated at end of file)
    "wrong_column_count",  # fewer or more fields than the header (a truncated last row, mostly)
    "undecodable_text",  # bytes that are not valid in the file's encoding
    "missing_source",
    "missing_target",
    "invalid_source_url",
    "invalid_target_url",
    "target_out_of_scope",  # the link points at a host that is not this site's
    "invalid_value",  # a date, number or flag that does not parse (column-shifted rows, mostly)
)
