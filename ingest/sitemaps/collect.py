"""A sitemap run: discover, read every sitemap tree level by level, land three Parquet files.

Why level by level: children are numbered by (parent, position) before any of them is read, so
the landed order, the loop detection ("already read from ...") and therefore the whole run are
the same every time, however fast each download happens to be. Within a level, files are read
`concurrency` at a time.

Every failure is data: a sitemap that cannot be fetched, is not a sitemap, is cut off or is too
large becomes a `sitemaps.parquet` row with `error`, and the URLs read before the failure are
kept (`is_partial`). Nothing here raises for a bad site; only our own bugs raise.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ingest.config import SiteConfig
from ingest.http import RetryPolicy, client_guard, make_async_client
from ingest.sitemaps.audit import DuplicateCounter
from ingest.sitemaps.discover import (
    Root,
    classify_input,
    default_roots,
    discover_roots,
    file_root,
    origin_of,
    robots_roots,
    site_origins,
)
from ingest.sitemaps.errors import SitemapError
from ingest.sitemaps.fetch import open_sitemap
from ingest.sitemaps.landing import (
    URLS_FILE,
    publish_run,
    published_dir,
    staging_run_dir,
    write_run_files,
)
from ingest.sitemaps.parse import SitemapReader
from ingest.sitemaps.records import FileResult, SitemapOptions, SitemapRunSummary, Target
from ingest.sitemaps.robots import (
    RobotsRecord,
    Verdicts,
    fetch_robots_record,
)
from ingest.sitemaps.rows import BatchWriter, UrlRows, origin_prefix
from ingest.urls import InvalidURL, normalize_url

log = logging.getLogger(__name__)

FILE_CHUNK = 1024 * 1024
XML_TYPES = frozenset(
    {"text/xml", "application/xml", "application/x-xml", "application/atom+xml",
     "application/rss+xml", "text/plain"}
)  # fmt: skip
GZIP_TYPES = frozenset(
    {"application/gzip", "application/x-gzip", "application/x-gunzip", "application/gzipped",
     "application/gzip-compressed", "gzip/document"}
)  # fmt: skip


class _RobotsLookup:
    """Per-URL robots verdicts, by origin, for the URLs of the run (None: origin not checked)."""

    def __init__(self, records: Sequence[RobotsRecord]) -> None:
        self._by_prefix: dict[str, Verdicts] = {
            r.origin + "/": r.verdicts() for r in records if r.rules.outcome != "disabled"
        }
        self._last_prefix = ""
        self._last: Verdicts | None = None

    def __call__(self, url: str) -> tuple[bool, bool] | None:
        if self._last is not None and url.startswith(self._last_prefix):
            return self._last.blocked(url)
        cut = url.find("/", url.find("//") + 2)
        prefix = url[: cut + 1] if cut >= 0 else url + "/"
        verdicts = self._by_prefix.get(prefix)
        if verdicts is None:
            return None
        self._last_prefix, self._last = prefix, verdicts
        return verdicts.blocked(url)

    def constant_verdict(self, url: str) -> tuple[str, tuple[bool, bool] | None]:
        """(prefix, verdict): every URL starting with `prefix` gets `verdict` from this lookup
        (None: its origin was not checked). When rules must be asked per URL, the prefix is
        one no URL starts with."""
        cut = url.find("/", url.find("//") + 2)
        prefix = url[: cut + 1] if cut >= 0 else url + "/"
        verdicts = self._by_prefix.get(prefix)
        if verdicts is None:
            return prefix, None
        constant = verdicts.constant
        return (prefix, constant) if constant is not None else ("\x00", None)


@dataclass
class _Reading:
    """The reader and URL rows of a file being read, kept outside `_read` for its timeout."""

    reader: SitemapReader | None = None
    rows: UrlRows | None = None


class _Run:
    """One run's state: robots records, the shared URL writer, the duplicate counter, results."""

    def __init__(
        self,
        site: SiteConfig,
        run_dir: Path,
        options: SitemapOptions,
        client: httpx.AsyncClient,
        on_url: Callable[[str], None] | None = None,
    ) -> None:
        self.site = site
        self.on_url = on_url
        self.run_dir = run_dir
        self.options = options
        self.client = client
        self.retry = RetryPolicy.from_settings(site.crawl)
        self.guard = client_guard(client)
        self.agent = site.crawl.robots_user_agent
        self.records: dict[str, RobotsRecord] = {}
        self.warnings: list[str] = []
        self.results: list[FileResult] = []
        self.now = datetime.now(UTC)
        self._semaphore = asyncio.Semaphore(max(1, options.concurrency))
        self.writer = BatchWriter(run_dir / URLS_FILE)
        self.duplicates = DuplicateCounter(run_dir / ".dedupe")
        self._lookup: _RobotsLookup | None = None

    # -- discovery ----------------------------------------------------------------------------

    async def robots_for(self, origin: str) -> RobotsRecord:
        record = self.records.get(origin)
        if record is None:
            record = await fetch_robots_record(
                self.client, origin, user_agent=self.agent, retry=self.retry, guard=self.guard
            )
            self.records[origin] = record
        return record

    async def roots(self, inputs: Sequence[str] | None) -> list[Root]:
        if not inputs:
            for origin in site_origins(self.site):
                await self.robots_for(origin)
            roots, problems = discover_roots(
                self.site, self.records, probe_defaults=self.options.probe_defaults
            )
            self.warnings += problems
            return roots
        roots = []
        for text in inputs:
            kind = classify_input(text)
            if kind == "file":
                roots.append(file_root(text))
                continue
            url = normalize_url(text, policy=self.site.url_policy)
            record = await self.robots_for(origin_of(url))
            if kind == "sitemap":
                roots.append(Root(url, "input"))
                continue
            found, problems = robots_roots(record)
            self.warnings += problems
            if not found and kind == "site" and self.options.probe_defaults:
                found = default_roots(origin_of(url))
            roots += found
        return roots

    # -- traversal ----------------------------------------------------------------------------

    async def run(self, inputs: Sequence[str] | None) -> None:
        roots = await self.roots(inputs)
        if self.options.check_robots:
            self._lookup = _RobotsLookup(list(self.records.values()))
        seen: dict[str, str | None] = {}
        level: list[Target] = []
        for root in roots:
            if root.url in seen:
                continue
            seen[root.url] = root.parent
            level.append(Target(len(level), root.url, root.source, root.parent, 0, root.is_file))
        if not level:
            self.warnings.append("no_sitemaps: no sitemap was named or found")
        order = len(level)
        depth = 0
        while level:
            results = await asyncio.gather(*(self._read_limited(t) for t in level))
            self.results += results
            depth += 1
            next_level: list[Target] = []
            for result in results:
                for child in self._children(result, seen, depth, order + len(next_level)):
                    next_level.append(child)
            order += len(next_level)
            level = next_level

    def _children(
        self, result: FileResult, seen: dict[str, str | None], depth: int, first_order: int
    ) -> list[Target]:
        """Targets for the children of `result`, each problem noted on the parent."""
        parent = result.target
        out: list[Target] = []
        skipped: dict[str, list[str]] = {}
        base = result.final_url or parent.url
        parent_origin = None if parent.is_file else origin_prefix(base)
        for loc, lastmod in result.children:
            try:
                if loc.startswith("/") and not parent.is_file:
                    url = normalize_url(loc, base, self.site.url_policy)
                    skipped.setdefault("relative_child", []).append(loc)
                else:
                    url = normalize_url(loc, policy=self.site.url_policy)
            except InvalidURL:
                skipped.setdefault("invalid_child_url", []).append(loc)
                continue
            if parent_origin is not None and not url.startswith(parent_origin):
                result.n_children_cross_host += 1
            if url == parent.url or url == result.final_url:
                skipped.setdefault("self_reference", []).append(url)
            elif url.rstrip("/").endswith("/robots.txt"):
                skipped.setdefault("robots_txt_child", []).append(url)
            elif url in seen:
                skipped.setdefault("already_listed", []).append(url)
            elif depth > self.options.max_depth:
                skipped.setdefault("depth_limit", []).append(url)
            elif len(seen) >= self.options.max_sitemaps:
                skipped.setdefault("sitemap_limit", []).append(url)
            else:
                seen[url] = parent.url
                out.append(
                    Target(
                        first_order + len(out), url, "index", parent.url, depth, lastmod_raw=lastmod
                    )  # fmt: skip
                )
        messages = {
            "relative_child": "child sitemap URLs are relative (resolved against the index)",
            "invalid_child_url": "child sitemap URLs are not valid URLs (skipped)",
            "self_reference": "entries list this sitemap itself (not read again)",
            "robots_txt_child": "entries point at a robots.txt (loop; not followed)",
            "already_listed": "child sitemaps were already read in this run (not read again)",
            "depth_limit": f"child sitemaps are nested deeper than {self.options.max_depth} "
            "levels (not read)",
            "sitemap_limit": f"child sitemaps exceed the {self.options.max_sitemaps:,}-file "
            "limit (not read)",
        }
        for code, urls in skipped.items():
            result.warnings.append(f"{code}: {len(urls):,} {messages[code]}; first: {urls[0]}")
        return out

    async def _read_limited(self, target: Target) -> FileResult:
        """Read one file within `file_timeout_s`.

        A timeout cancels `_read` mid-file, after its `finally` has flushed the URL rows read so
        far to sitemap_urls.parquet; `reading` keeps the reader and rows so the file's row says
        how many URLs it gave (is_partial) instead of claiming none.
        """
        async with self._semaphore:
            result = FileResult(target)
            reading = _Reading()
            try:
                async with asyncio.timeout(self.options.file_timeout_s):
                    return await self._read(target, result, reading)
            except TimeoutError:
                self._failed(
                    result,
                    "timeout",
                    f"timeout: {target.url}: not read within {self.options.file_timeout_s:g}s",
                )
                if reading.reader is None or reading.rows is None:
                    return result  # no response yet: nothing was read
                reading.rows.close()  # idempotent: the rows were closed when _read was cancelled
                return self._finish(result, reading.reader, reading.rows)

    async def _read(self, target: Target, result: FileResult, reading: _Reading) -> FileResult:
        if target.is_file:
            result.final_url = target.url
            rows = self._rows(target, target.url)
            reader = SitemapReader(target.url, rows, max_bytes=self.options.max_bytes,
                                   fast_xml=self.options.fast_xml)  # fmt: skip
            reading.reader, reading.rows = reader, rows
            try:
                with open(target.url, "rb") as fh:
                    while chunk := fh.read(FILE_CHUNK):
                        reader.feed(chunk)
                reader.close()
            except SitemapError as exc:
                self._failed(result, exc.kind, exc.code_message)
            except OSError as exc:
                self._failed(result, "file_error", f"file_error: {target.url}: {exc}")
            finally:
                rows.close()
            return self._finish(result, reader, rows)

        opened = await open_sitemap(self.client, target.url, retry=self.retry, guard=self.guard)
        result.status = opened.status
        result.content_type = opened.content_type
        result.final_url = opened.final_url
        result.redirects = opened.redirects
        result.fetched_at = opened.fetched_at
        result.response_ms = opened.response_ms
        if opened.response is None:
            result.error_kind = opened.error_kind
            result.error = f"{opened.error_kind}: {target.url}: {opened.error}"
            return result
        rows = self._rows(target, opened.final_url)
        reader = SitemapReader(target.url, rows, max_bytes=self.options.max_bytes,
                               fast_xml=self.options.fast_xml)  # fmt: skip
        reading.reader, reading.rows = reader, rows
        try:
            async for chunk in opened.response.aiter_raw():
                reader.feed(chunk)
            reader.close()
        except SitemapError as exc:
            self._failed(result, exc.kind, exc.code_message)
        except (httpx.HTTPError, OSError) as exc:
            self._failed(
                result,
                "connection_broken",
                f"connection_broken: {target.url}: the download broke off after "
                f"{reader.compressed_bytes:,} bytes ({type(exc).__name__}: {exc})",
            )
        finally:
            rows.close()
            await opened.aclose()
        self._content_type_warning(result, reader)
        return self._finish(result, reader, rows)

    def _rows(self, target: Target, final_url: str) -> UrlRows:
        return UrlRows(
            target.url,
            self.writer,
            duplicates=self.duplicates,
            file_number=target.order,
            on_url=self.on_url,
            policy=self.site.url_policy,
            robots=self._lookup,
            now=self.now,
            batch_rows=self.options.batch_rows,
            origin_url=final_url,
        )

    @staticmethod
    def _failed(result: FileResult, kind: str, message: str) -> None:
        result.error_kind = kind
        result.error = message

    def _finish(self, result: FileResult, reader: SitemapReader, rows: UrlRows) -> FileResult:
        counts = rows.counts
        result.kind = reader.kind
        result.bytes = reader.bytes
        result.compressed_bytes = reader.compressed_bytes
        result.is_gzip = reader.is_gzip
        result.children = counts.children
        result.n_urls = counts.n_urls
        result.n_invalid = counts.n_invalid
        result.n_cross_host = counts.n_cross_host
        result.n_robots_blocked = counts.n_robots_blocked
        result.n_googlebot_blocked = counts.n_googlebot_blocked
        result.warnings = counts.warning_list() + result.warnings
        if result.error is not None and (counts.n_urls or counts.children):
            result.is_partial = True
        return result

    @staticmethod
    def _content_type_warning(result: FileResult, reader: SitemapReader) -> None:
        raw = result.content_type
        media = (raw or "").split(";", 1)[0].strip().lower()
        if media in XML_TYPES or media in GZIP_TYPES:
            return
        shown = raw if raw else "no Content-Type"
        readable = "read anyway" if reader.kind else "and it is no sitemap"
        result.warnings.append(
            f"unexpected_content_type: served as {shown} ({readable}; content decides)"
        )

    # -- landing ------------------------------------------------------------------------------

    def land(self, started: float, final_dir: Path) -> SitemapRunSummary:
        """Close the URL file, count duplicates, write the file and robots rows."""
        results = sorted(self.results, key=lambda r: r.target.order)
        self.writer.close()
        n_urls = sum(r.n_urls for r in results)
        within, across = self.duplicates.counts(len(results))
        self.duplicates.close()
        elapsed = time.perf_counter() - started
        robots = [r.row() for r in self.records.values()]
        summary = SitemapRunSummary(
            site_id=self.site.id,
            run_dir=final_dir,
            n_sitemaps=len(results),
            n_urls=n_urls,
            n_errors=sum(1 for r in results if r.error),
            n_partial=sum(1 for r in results if r.is_partial),
            by_kind=_count_by(r.kind or "unreadable" for r in results),
            roots=[r.target.url for r in results if r.target.depth == 0],
            robots=[{k: v for k, v in row.items() if k != "body"} for row in robots],
            elapsed_s=round(elapsed, 3),
            urls_per_s=round(n_urls / elapsed, 1) if elapsed > 0 else 0.0,
            warnings=self.warnings,
        )
        write_run_files(
            self.run_dir,
            sitemap_rows=[
                r.row((int(within[r.target.order]), int(across[r.target.order]))) for r in results
            ],
            robots_rows=robots,
            summary=summary.as_dict(),
        )
        return summary


def _count_by(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


async def collect_sitemaps_async(
    site: SiteConfig,
    out_dir: Path | None = None,
    *,
    inputs: Sequence[str] | None = None,
    options: SitemapOptions | None = None,
    client: httpx.AsyncClient | None = None,
    base: Path | None = None,
    on_url: Callable[[str], None] | None = None,
) -> SitemapRunSummary:
    """Read the site's sitemaps (or `inputs`: URLs of sitemaps, robots.txt, sites, or files).

    Lands into `out_dir` when given (the CLI), else into a new run folder under
    `landing/sitemaps/<site>/`, published atomically when complete. `on_url` sees every valid
    normalized URL as it is read (seeding the crawler).
    """
    options = options or SitemapOptions.for_site(site)
    staging = out_dir is None
    run_dir = staging_run_dir(site.id, base) if staging else Path(out_dir)  # type: ignore[arg-type]
    run_dir.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    client = client or make_async_client(site.crawl)
    started = time.perf_counter()
    try:
        run = _Run(site, run_dir, options, client, on_url)
        await run.run(inputs)
    finally:
        if own_client:
            await client.aclose()
    final_dir = published_dir(run_dir) if staging else run_dir
    summary = await asyncio.to_thread(run.land, started, final_dir)
    if staging:
        publish_run(run_dir)
    return summary


def collect_sitemaps(
    site: SiteConfig,
    out_dir: Path | None = None,
    *,
    inputs: Sequence[str] | None = None,
    options: SitemapOptions | None = None,
    base: Path | None = None,
) -> SitemapRunSummary:
    """Blocking `collect_sitemaps_async`; from inside a running loop it uses a helper thread."""

    def run() -> SitemapRunSummary:
        return asyncio.run(
            collect_sitemaps_async(site, out_dir, inputs=inputs, options=options, base=base)
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sitemaps") as pool:
        return pool.submit(run).result()


__all__ = [
    "FileResult",
    "SitemapOptions",
    "SitemapRunSummary",
    "Target",
    "collect_sitemaps",
    "collect_sitemaps_async",
]
