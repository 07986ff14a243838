"""Sitemaps and robots.txt: discovery, safe streaming parsing, audit facts, Parquet landing.

The public surface (everything else is an implementation detail of these):

- `collect_sitemaps(site, out_dir=None, *, inputs=None, options=None, base=None)` and its async
  twin: one run over a site's sitemaps (or given URLs/files) into
  `landing/sitemaps/<site>/<run>/` (or `out_dir`); returns a `SitemapRunSummary`.
- `SitemapOptions`: depth, file count and size caps, concurrency, robots verdicts.
- `sitemap_seed_urls(site, limit=None)`: in-scope sitemap URLs for the crawler's frontier.
- `fetch_robots_record`, `robots_record_from_bytes`, `RobotsRecord`: the robots.txt record with
  `can_fetch(url)` (our agent) and `googlebot_can_fetch(url)`.
- `SitemapReader`: the streaming parser on its own (push bytes, get entries).
- Schemas: `ingest.sitemaps.schema` (`SITEMAP_URLS_SCHEMA`, `SITEMAPS_SCHEMA`, `ROBOTS_SCHEMA`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.sitemaps.collect import (
        SitemapOptions,
        SitemapRunSummary,
        collect_sitemaps,
        collect_sitemaps_async,
    )
    from ingest.sitemaps.parse import SitemapReader
    from ingest.sitemaps.robots import (
        RobotsRecord,
        fetch_robots_record,
        robots_record_from_bytes,
    )
    from ingest.sitemaps.seed import sitemap_seed_urls, sitemap_seed_urls_async

_EXPORTS = {
    "SitemapOptions": "ingest.sitemaps.collect",
    "SitemapRunSummary": "ingest.sitemaps.collect",
    "collect_sitemaps": "ingest.sitemaps.collect",
    "collect_sitemaps_async": "ingest.sitemaps.collect",
    "SitemapReader": "ingest.sitemaps.parse",
    "RobotsRecord": "ingest.sitemaps.robots",
    "fetch_robots_record": "ingest.sitemaps.robots",
    "robots_record_from_bytes": "ingest.sitemaps.robots",
    "sitemap_seed_urls": "ingest.sitemaps.seed",
    "sitemap_seed_urls_async": "ingest.sitemaps.seed",
}
__all__ = [
    "RobotsRecord",
    "SitemapOptions",
    "SitemapReader",
    "SitemapRunSummary",
    "collect_sitemaps",
    "collect_sitemaps_async",
    "fetch_robots_record",
    "robots_record_from_bytes",
    "sitemap_seed_urls",
    "sitemap_seed_urls_async",
]


def __getattr__(name: str) -> Any:
    """Lazy exports: `import ingest.sitemaps.parse` must not pull in httpx or pyarrow."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ingest.sitemaps' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
