"""Entries to landing rows: normalize, key, parse dates, flag, and write in bounded batches.

One `UrlRows` per sitemap file. It is the parser's sink, so rows are built while the file
streams in and appended to the run's one `sitemap_urls.parquet` (a `BatchWriter`) every
`batch_rows` rows or `BATCH_BYTES`: memory holds one batch, not one file, and a run over 200
files of 50,000 URLs stays as small as a run over one. Rows of one file keep their order (and
carry `position`); files read concurrently may interleave their row groups.

Why one shared writer rather than a part per file concatenated at the end: re-reading every
part through the Parquet reader cost a full extra pass and, with Arrow's allocator holding on
to what it freed, tens of MB of resident memory on big runs.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.sitemaps.audit import DuplicateCounter
from ingest.sitemaps.dates import lastmod_micros, to_micros
from ingest.sitemaps.entries import UrlEntry, Video
from ingest.sitemaps.fastnorm import LocNormalizer
from ingest.sitemaps.schema import SITEMAP_URLS_SCHEMA
from ingest.urls import DEFAULT_POLICY, InvalidURL, UrlPolicy, normalize_url, url_key

CHANGEFREQS = frozenset({"always", "hourly", "daily", "weekly", "monthly", "yearly", "never"})
FUTURE_SLACK = timedelta(days=1)  # clocks and zones differ; a day ahead is not "future"
MAX_URL_CHARS = 2048  # sitemaps.org: a <loc> must be shorter than 2,048 characters
BATCH_BYTES = 4 * 1024 * 1024  # flush early when rows are long, so memory is bounded in bytes

# robots verdicts for a URL: (blocked for our agent, blocked for Googlebot), None when unknown
RobotsCheck = Callable[[str], tuple[bool, bool] | None]
_MISSING: Any = object()

# Columns nearly every row fills go into one tuple per row (transposed at flush time); the rest
# are kept as {row: value} and expanded at flush, so a plain <url><loc><lastmod></url> costs one
# tuple and one append instead of twenty-seven appends.
_DENSE = ("url", "url_key", "lastmod", "lastmod_raw", "changefreq", "priority", "loc_raw",
          "is_cross_host", "is_robots_blocked", "is_googlebot_blocked")  # fmt: skip
_SPARSE_DEFAULTS: dict[str, Any] = {
    "hreflang": None, "n_images": 0, "is_news": False, "is_video": False, "error": None,
    "image_locs": None, "n_videos": 0, "videos": None, "news_publication_date": None,
    "news_publication_date_raw": None, "news_title": None, "news_publication_name": None,
    "news_language": None, "is_mobile": False, "warnings": None,
}  # fmt: skip
_TYPES = {name: SITEMAP_URLS_SCHEMA.field(name).type for name in SITEMAP_URLS_SCHEMA.names}


def origin_prefix(url: str) -> str:
    """`scheme://host[:port]/` of a URL: a normalized URL on the same origin starts with it."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}/"


@dataclass
class FileCounts:
    """Per-file facts gathered while rows are built (they end up in sitemaps.parquet)."""

    n_urls: int = 0
    n_invalid: int = 0
    n_cross_host: int = 0
    n_robots_blocked: int = 0
    n_googlebot_blocked: int = 0
    url_warnings: dict[str, int] = field(default_factory=dict)
    children: list[tuple[str, str | None]] = field(default_factory=list)
    warnings: dict[str, str] = field(default_factory=dict)  # code -> message (first wins)

    def warning_list(self) -> list[str]:
        out = [f"{code}: {message}" for code, message in self.warnings.items()]
        for code, n in self.url_warnings.items():
            out.append(f"{code}: {n:,} URLs")
        return out


class BatchWriter:
    """The run's `sitemap_urls.parquet`, appended to batch by batch, renamed into place on close.

    Every UrlRows of a run shares one writer; they all run on one event loop thread, so appends
    never overlap.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_name(f".{path.name}.tmp")
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._tmp, SITEMAP_URLS_SCHEMA, compression="zstd")
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> Path:
        """Finish the file (an empty one with the schema when no row came) and publish it."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(SITEMAP_URLS_SCHEMA.empty_table(), self._tmp, compression="zstd")
        else:
            self._writer.close()
            self._writer = None
        os.replace(self._tmp, self.path)
        return self.path


class UrlRows:
    """EntrySink turning one sitemap file's entries into rows for `out`.

    `out` is the run's shared BatchWriter, a path (a writer of its own, closed with this
    object; tests), or None (rows are built and counted, then dropped).
    """

    def __init__(
        self,
        sitemap_url: str,
        out: BatchWriter | Path | None,
        *,
        policy: UrlPolicy = DEFAULT_POLICY,
        robots: RobotsCheck | None = None,
        now: datetime | None = None,
        batch_rows: int = 16_384,
        origin_url: str | None = None,
        duplicates: DuplicateCounter | None = None,
        file_number: int = 0,
        on_url: Callable[[str], None] | None = None,
    ) -> None:
        """`origin_url`: where the file was really served from (after redirects), which decides
        what counts as cross-host; defaults to `sitemap_url`."""
        self.sitemap_url = sitemap_url
        self._duplicates = duplicates
        self._file_number = file_number
        self._on_url = on_url  # sees every valid normalized URL (the crawler's seeding)
        self._own_writer = isinstance(out, Path)
        self._out: BatchWriter | None = BatchWriter(out) if isinstance(out, Path) else out
        self.policy = policy
        self._normalize = LocNormalizer(policy)
        self.robots = robots
        self.counts = FileCounts()
        served_from = origin_url or sitemap_url
        # relative <loc>s resolve against where the file was served from (after redirects), as
        # a browser resolves links against the final URL of a page
        self._base_url = served_from
        # a local file has no host: nothing it lists is "cross-host"
        self._origin = (
            origin_prefix(served_from) if served_from.startswith(("http://", "https://")) else None
        )
        self._future = to_micros((now or datetime.now(UTC)) + FUTURE_SLACK)
        self._lastmods: dict[str, Any] = {}  # raw -> micros, per file (few distinct values)
        # values that need no warning (simple_urls): raw -> parsed, per file
        self._good_lastmods: dict[str, int] = {}
        self._good_changefreqs: dict[str, str] = {}
        self._good_priorities: dict[str, float] = {}
        self._batch_rows = batch_rows
        self._new_batch()
        self.rows_written = 0

    def _new_batch(self) -> None:
        self._rows: list[tuple[Any, ...]] = []
        self._batch_bytes = 0
        self._sparse: dict[str, dict[int, Any]] = {name: {} for name in _SPARSE_DEFAULTS}
        self._batch_start = self.counts.n_urls

    # -- EntrySink ----------------------------------------------------------------------------

    def child(self, loc: str, lastmod: str | None) -> None:
        self.counts.children.append((loc, lastmod))

    def warn(self, code: str, message: str) -> None:
        self.counts.warnings.setdefault(code, message)

    def url(self, entry: UrlEntry) -> None:
        """An entry with extensions (images, video, news, hreflang, mobile) or oddities."""
        warnings = entry.warnings
        if entry.loc_is_bare:
            warnings = _add(warnings, "bare_url")
        news = entry.news
        news_date = None
        if news is not None and news.publication_date:
            news_date = lastmod_micros(news.publication_date)
            if news_date is None:
                warnings = _add(warnings, "invalid_news_date")
        loc = entry.loc or ""
        row, url = self._add(loc, entry.lastmod, entry.changefreq, entry.priority, warnings,
                             entry.is_feed)  # fmt: skip
        sparse = self._sparse
        if entry.n_images:
            sparse["n_images"][row] = entry.n_images
            sparse["image_locs"][row] = entry.images
        if entry.n_videos:
            sparse["n_videos"][row] = entry.n_videos
            sparse["is_video"][row] = True
            sparse["videos"][row] = [_video(v) for v in entry.videos or ()]
        if entry.alternates:
            sparse["hreflang"][row] = [
                {"lang": lang, "href": _href(href, url)} for lang, href in entry.alternates
            ]
        if entry.mobile:
            sparse["is_mobile"][row] = True
        if news is not None:
            sparse["is_news"][row] = True
            sparse["news_title"][row] = news.title
            sparse["news_publication_name"][row] = news.publication_name
            sparse["news_language"][row] = news.language
            if news.publication_date:
                sparse["news_publication_date_raw"][row] = news.publication_date
                sparse["news_publication_date"][row] = news_date
        extra = entry.n_images + entry.n_alternates + entry.n_videos
        self._batch_bytes += 2 * len(loc) + 200 + 200 * extra
        if row + 1 >= self._batch_rows or self._batch_bytes >= BATCH_BYTES:
            self.flush()

    def simple_url(
        self, loc: str, lastmod: str | None, changefreq: str | None, priority: str | None
    ) -> None:
        """A plain `<url>` (loc, lastmod, changefreq, priority): the fast path of the fast reader,
        skipping the UrlEntry object that 50,000 plain entries do not need."""
        row, _url = self._add(loc, lastmod, changefreq, priority, None, False)
        self._batch_bytes += 2 * len(loc) + 200
        if row + 1 >= self._batch_rows or self._batch_bytes >= BATCH_BYTES:
            self.flush()

    def simple_urls(self, entries: list[tuple[str, str, str, str]]) -> None:
        """Many plain `<url>`s at once (the plain scanner's batches), an empty string standing
        for an absent lastmod/changefreq/priority: `simple_url` for each, with the common case
        (an absolute, valid URL and valid values: no warning at all) handled in one loop over
        per-file caches. Anything else goes through `simple_url`, which repeats the checks with
        every warning; nothing of an entry is recorded before that choice."""
        normalize = self._normalize
        lastmods = self._good_lastmods
        priorities = self._good_priorities
        changefreqs = self._good_changefreqs
        future = self._future
        origin = self._origin
        robots = self.robots
        on_url = self._on_url
        counts = self.counts
        blake2b = hashlib.blake2b
        simple_url = self.simple_url

        def slow(loc: str, lastmod: str, changefreq: str, priority: str) -> None:
            simple_url(loc, lastmod or None, changefreq or None, priority or None)

        batch_rows = self._batch_rows
        missing = _MISSING
        verdict_prefix = "\x00"  # a prefix no URL starts with: no cached verdict yet
        verdict: tuple[bool, bool] | None = None
        constant = getattr(robots, "constant_verdict", None)
        for loc, lastmod_raw, changefreq_raw, priority_raw in entries:
            if not lastmod_raw:
                lastmod = lastmod_raw = None
            else:
                lastmod = lastmods.get(lastmod_raw, missing)
                if lastmod is missing:
                    lastmod = lastmod_micros(lastmod_raw)
                    if lastmod is None or lastmod > future:
                        slow(loc, lastmod_raw, changefreq_raw, priority_raw)
                        continue
                    if len(lastmods) < 65_536:
                        lastmods[lastmod_raw] = lastmod
            if not changefreq_raw:
                changefreq = None
            else:
                changefreq = changefreqs.get(changefreq_raw)
                if changefreq is None:
                    changefreq = changefreq_raw.lower()
                    if changefreq not in CHANGEFREQS:
                        slow(loc, lastmod_raw, changefreq_raw, priority_raw)
                        continue
                    if len(changefreqs) < 1024:
                        changefreqs[changefreq_raw] = changefreq
            if not priority_raw:
                priority = None
            else:
                priority = priorities.get(priority_raw)
                if priority is None:
                    try:
                        priority = float(priority_raw)
                    except ValueError:
                        priority = -1.0
                    if not 0.0 <= priority <= 1.0:  # NaN too
                        slow(loc, lastmod_raw, changefreq_raw, priority_raw)
                        continue
                    if len(priorities) < 1024:
                        priorities[priority_raw] = priority
            if loc[:1] == "/" or len(loc) >= MAX_URL_CHARS:
                slow(loc, lastmod_raw, changefreq_raw, priority_raw)
                continue
            try:
                url = normalize(loc)
            except InvalidURL:
                slow(loc, lastmod_raw, changefreq_raw, priority_raw)
                continue
            key = blake2b(url.encode(), digest_size=8).hexdigest()
            if on_url is not None:
                on_url(url)
            cross = origin is not None and not url.startswith(origin)
            if cross:
                counts.n_cross_host += 1
            blocked = google_blocked = None
            if robots is not None:
                if url.startswith(verdict_prefix):
                    found = verdict
                else:
                    found = robots(url)
                    if constant is not None:
                        verdict_prefix, verdict = constant(url)
                if found is not None:
                    blocked, google_blocked = found
                    if blocked or google_blocked:
                        counts.n_robots_blocked += blocked
                        counts.n_googlebot_blocked += google_blocked
            rows = self._rows
            rows.append((url, key, lastmod, lastmod_raw, changefreq, priority, loc, cross,
                         blocked, google_blocked))  # fmt: skip
            counts.n_urls += 1
            self._batch_bytes += 2 * len(loc) + 200
            if len(rows) >= batch_rows or self._batch_bytes >= BATCH_BYTES:
                self.flush()

    def _add(
        self,
        loc: str,
        lastmod_raw: str | None,
        changefreq: str | None,
        priority_raw: str | None,
        warnings: list[str] | None,
        is_feed: bool,
    ) -> tuple[int, str]:
        """Append the dense part of a row (the caller adds extensions, then may flush)."""
        counts = self.counts
        rows = self._rows
        row = len(rows)
        key: str | None
        try:
            if loc.startswith("/"):
                url = normalize_url(loc, self._base_url, self.policy)
                warnings = _add(warnings, "relative_loc")
            else:
                url = self._normalize(loc)
            key = url_key(url)
            if self._on_url is not None:
                self._on_url(url)
        except InvalidURL as exc:
            url, key = loc, None
            self._sparse["error"][row] = str(exc)
            warnings = _add(warnings, "invalid_url")
            counts.n_invalid += 1
        if len(loc) >= MAX_URL_CHARS:
            warnings = _add(warnings, "long_url")

        lastmod = None
        if lastmod_raw is not None:
            lastmod = self._lastmods.get(lastmod_raw, _MISSING) if not is_feed else _MISSING
            if lastmod is _MISSING:
                lastmod = lastmod_micros(lastmod_raw, is_feed)
                if not is_feed and len(self._lastmods) < 65_536:
                    self._lastmods[lastmod_raw] = lastmod
            if lastmod is None:
                warnings = _add(warnings, "invalid_lastmod")
            elif lastmod > self._future:
                warnings = _add(warnings, "future_lastmod")

        if changefreq is not None:
            changefreq = changefreq.lower()
            if changefreq not in CHANGEFREQS:
                warnings = _add(warnings, "invalid_changefreq")

        priority = None
        if priority_raw is not None:
            try:
                priority = float(priority_raw)
            except ValueError:
                priority = None
            if priority is None or not 0.0 <= priority <= 1.0:
                priority = None
                warnings = _add(warnings, "invalid_priority")

        cross = False
        blocked = google_blocked = None
        if key is not None:
            cross = self._origin is not None and not url.startswith(self._origin)
            if cross:
                counts.n_cross_host += 1
            if self.robots is not None:
                verdict = self.robots(url)
                if verdict is not None:
                    blocked, google_blocked = verdict
                    if blocked or google_blocked:
                        counts.n_robots_blocked += blocked
                        counts.n_googlebot_blocked += google_blocked

        if warnings:
            self._sparse["warnings"][row] = warnings
            url_warnings = counts.url_warnings
            for code in warnings:
                url_warnings[code] = url_warnings.get(code, 0) + 1

        rows.append((url, key, lastmod, lastmod_raw, changefreq, priority, loc, cross,
                     blocked, google_blocked))  # fmt: skip
        counts.n_urls += 1
        return row, url

    # -- output -------------------------------------------------------------------------------

    def flush(self) -> None:
        n = len(self._rows)
        if not n:
            return
        dense = dict(zip(_DENSE, zip(*self._rows, strict=True), strict=True))
        if self._duplicates is not None:
            self._duplicates.add(self._file_number, dense["url_key"])
        arrays = []
        for name in SITEMAP_URLS_SCHEMA.names:
            values: Any
            if name in dense:
                values = dense[name]
            elif name == "sitemap_url":
                values = [self.sitemap_url] * n
            elif name == "position":
                values = range(self._batch_start, self._batch_start + n)
            else:
                sparse = self._sparse[name]
                if not sparse:
                    arrays.append(_constant(_SPARSE_DEFAULTS[name], n, _TYPES[name]))
                    continue
                values = [_SPARSE_DEFAULTS[name]] * n
                for row, value in sparse.items():
                    values[row] = value
            arrays.append(pa.array(values, type=_TYPES[name]))
        batch = pa.RecordBatch.from_arrays(arrays, schema=SITEMAP_URLS_SCHEMA)
        self._new_batch()
        if self._out is not None:
            self._out.write(batch)
            self.rows_written += batch.num_rows

    def close(self) -> None:
        """Write what is left (the shared writer stays open for the other files)."""
        self.flush()
        if self._own_writer and self._out is not None:
            self._out.close()
            self._out = None


def _constant(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    """A column of one repeated default, built without converting n Python objects."""
    if value is None:
        return pa.nulls(n, type_)
    if value is False:
        return pa.array(np.zeros(n, dtype=bool), type=type_)
    if value == 0:
        return pa.array(np.zeros(n, dtype=np.int32), type=type_)
    return pa.array([value] * n, type=type_)


def _video(video: Video) -> dict[str, Any]:
    return {
        "title": video.title,
        "content_loc": video.content_loc,
        "player_loc": video.player_loc,
        "thumbnail_loc": video.thumbnail_loc,
        "duration_s": _int(video.duration),
        "publication_date": video.publication_date,
    }


def _add(warnings: list[str] | None, code: str) -> list[str]:
    if warnings is None:
        return [code]
    if code not in warnings:
        warnings = [*warnings, code]
    return warnings


def _href(href: str, base: str) -> str:
    try:
        return normalize_url(href, base)
    except InvalidURL:
        return href


def _int(text: str | None) -> int | None:
    if not text:
        return None
    try:
        value = int(float(text))
    except ValueError:
        return None
    return value if -(2**31) <= value < 2**31 else None
