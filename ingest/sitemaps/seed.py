"""Sitemap URLs for the crawler's frontier (config: `crawl.seed_from_sitemaps`).

Why: a crawl that only follows links never reaches orphans; seeding the frontier with the
sitemap's URLs crawls them too, so the warehouse sees their status, canonical and indexability.
Seeding reads the same sitemaps the `sitemaps` asset reads (config, robots.txt, default places)
into a temporary folder it deletes (nothing is landed), and keeps only normalized, in-scope URLs,
each once, up to a limit. It does not check robots.txt: the crawler does, for every URL it claims
(ingest/crawl/crawler.py `_seed_from_sitemaps` queues these behind every linked page).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from ingest.config import SiteConfig
from ingest.sitemaps.collect import SitemapOptions, collect_sitemaps_async


class _ScopedUrls:
    """Collects in-scope URLs in file order, deduplicated, until `limit` is reached."""

    def __init__(self, site: SiteConfig, limit: int | None) -> None:
        self.scope = site.scope()
        self.limit = limit
        self.urls: dict[str, None] = {}

    def add(self, url: str) -> None:
        if self.limit is not None and len(self.urls) >= self.limit:
            return
        if url not in self.urls and self.scope.contains(url):
            self.urls[url] = None


async def sitemap_seed_urls_async(
    site: SiteConfig,
    *,
    limit: int | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[str]:
    """Normalized, in-scope URLs of the site's sitemaps, each once, at most `limit`, in file
    order (files level by level as discovered, URLs as listed)."""
    found = _ScopedUrls(site, limit)
    # One file at a time: the order of the seeds is then the order of the files (level by
    # level, as listed), the same on every run.
    options = SitemapOptions.for_site(site, check_robots=False, concurrency=1)
    with TemporaryDirectory(prefix="lw-seed-") as tmp:
        await collect_sitemaps_async(
            site, Path(tmp), options=options, client=client, on_url=found.add
        )
    return list(found.urls)


def sitemap_seed_urls(site: SiteConfig, *, limit: int | None = None) -> list[str]:
    """Blocking `sitemap_seed_urls_async` (a helper thread when a loop is already running)."""

    def run() -> list[str]:
        return asyncio.run(sitemap_seed_urls_async(site, limit=limit))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sitemap-seed") as pool:
        return pool.submit(run).result()
