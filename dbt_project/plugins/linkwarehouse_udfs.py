"""dbt-duckdb plugin: SQL functions the warehouse needs from the ingest library.

Why: every source lands `url_key` for the URLs it owns, but some URLs only appear as values
(a canonical target, a redirect's final URL). Their keys must be the very same blake2b hash that
`ingest.urls.url_key` gives, or the joins across sources silently miss; re-implementing the hash in
SQL would be a second definition that can drift. So the ingest function itself is registered on
every dbt connection (profiles.yml `plugins:`), vectorized over Arrow arrays.
"""

from __future__ import annotations

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

from ingest.urls import url_key


def url_key_array(urls: pa.Array) -> pa.Array:
    """`url_key` of each (already normalized) URL; null stays null."""
    return pa.array([None if u is None else url_key(u) for u in urls.to_pylist()], type=pa.string())


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function(
            "url_key",
            url_key_array,
            [VARCHAR],
            VARCHAR,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
