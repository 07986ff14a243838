"""Helpers for the warehouse tests: landing files written through the ingest schemas, and
read-only queries of a built warehouse.

Each test module builds its own warehouse once (module-scoped fixture, two dbt invocations via
`linking.warehouse.build_warehouse`) in its own data folder, then asserts many things about it.
A plain module rather than a conftest.py: tests/conftest.py already owns that module name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from ingest.landing import SCHEMAS, write_json, write_rows
from ingest.urls import url_key


class Warehouse:
    """Read-only access to a built warehouse file."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.path = data / "warehouse.duckdb"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            cursor = con.execute(sql, list(params))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            con.close()

    def column(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return [row[0] for row in self.rows(sql, params)]


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for a block (module fixtures cannot use monkeypatch)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---------------------------------------------------------------------------------------------
# Hand-built crawl landing files
# ---------------------------------------------------------------------------------------------


def page_row(url: str, status: int | None = 200, **fields: Any) -> dict[str, Any]:
    """A pages.parquet row as the crawler writes it; `redirect_to` makes a one-hop redirect."""
    redirect_to = fields.pop("redirect_to", None)
    canonical = fields.pop("canonical", url if status == 200 else None)
    row: dict[str, Any] = {
        "url": url,
        "url_key": url_key(url),
        "requested_url": url,
        "status": status,
        "final_url": redirect_to or url,
        "final_status": 200 if redirect_to else status,
        "redirect_chain": (
            [{"url": url, "status": status}, {"url": redirect_to, "status": 200}]
            if redirect_to
            else [{"url": url, "status": status}]
        ),
        "crawl_state": "redirect" if redirect_to else ("ok" if status else "blocked_by_robots"),
        "content_type": "text/html; charset=utf-8",
        "is_html": status == 200 and not redirect_to,
        "depth": 0,
        "canonical": None if redirect_to else canonical,
        "canonical_source": "html" if canonical and not redirect_to else None,
        "is_indexable": status == 200 and not redirect_to and canonical == url,
        "indexability_reason": (
            "redirect"
            if redirect_to
            else "non_200"
            if status != 200
            else "indexable"
            if canonical == url
            else "canonicalised"
        ),
    }
    row.update(fields)
    return row


def link_row(
    source: str, target: str, index: int, position: str = "content", **fields: Any
) -> dict[str, Any]:
    row = {
        "source_url": source,
        "source_key": url_key(source),
        "target_url": target,
        "target_key": url_key(target),
        "anchor_text": target.rsplit("/", 1)[-1] or "home",
        "position": position,
        "link_index": index,
        "is_internal": True,
        "is_nofollow": False,
        "is_ugc": False,
        "is_sponsored": False,
        "is_image": False,
        "rel": "",
        "href_raw": target,
    }
    row.update(fields)
    return row


def write_crawl_run(
    data: Path,
    site_id: str,
    run_id: str,
    pages: list[dict[str, Any]],
    links: list[dict[str, Any]],
    *,
    complete: bool = True,
    stop_reason: str = "frontier_empty",
    start_urls: Sequence[str] = (),
    allowed_hosts: Sequence[str] = (),
) -> Path:
    run_dir = data / "landing" / "crawl" / site_id / run_id
    write_rows(pages, SCHEMAS["pages"], run_dir / "pages.parquet")
    write_rows(links, SCHEMAS["links"], run_dir / "links.parquet")
    write_rows([], SCHEMAS["errors"], run_dir / "errors.parquet")
    write_json(
        {
            "site_id": site_id,
            "started_at": "2026-01-01T00:00:00+00:00",
            "finished_at": "2026-01-01T00:10:00+00:00",
            "stop_reason": stop_reason,
            "complete": complete,
            "message": None if complete else f"{stop_reason} reached",
            "pages_per_s": 10.0,
            "start_urls": list(start_urls),
            "allowed_hosts": list(allowed_hosts),
            "settings": {"include_subdomains": False},
            "counts": {"pages": len(pages), "links": len(links), "errors": 0},
        },
        run_dir / "crawl_run.json",
    )
    return run_dir


def write_sitemap_run(data: Path, site_id: str, run_id: str, urls: Mapping[str, str]) -> Path:
    """`urls`: URL -> the sitemap file listing it."""
    from ingest.sitemaps.schema import ROBOTS_SCHEMA, SITEMAP_URLS_SCHEMA, SITEMAPS_SCHEMA

    run_dir = data / "landing" / "sitemaps" / site_id / run_id
    rows = [
        {"url": url, "url_key": url_key(url), "sitemap_url": sitemap, "n_images": 0}
        for url, sitemap in urls.items()
    ]
    write_rows(rows, SITEMAP_URLS_SCHEMA, run_dir / "sitemap_urls.parquet")
    files = sorted(set(urls.values()))
    write_rows(
        [{"sitemap_url": f, "kind": "urlset", "status": 200} for f in files],
        SITEMAPS_SCHEMA,
        run_dir / "sitemaps.parquet",
    )
    write_rows([], ROBOTS_SCHEMA, run_dir / "robots.parquet")
    # written last by the collector: the staging models take only runs that have it
    write_json(
        {"site_id": site_id, "n_sitemaps": len(files), "n_urls": len(rows)},
        run_dir / "sitemap_run.json",
    )
    return run_dir
