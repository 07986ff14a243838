"""The crawl loop: frontier -> robots -> fetch -> parse -> landing Parquet, resumable after SIGKILL.

Shape (why it is built this way):

* Workers (asyncio tasks, `concurrency` of them) take URLs from an in-memory batch claimed from
  the SQLite frontier in BFS order. Discovered links are buffered and written to the frontier in
  batches, so SQLite costs a few transactions per second, not one per link.
* Rows are buffered in memory and, every second (or sooner when the buffer is large), written as
  *part files* under `run_dir/.state/parts/` and appended to the final Parquet files being built
  (state.py); then ONE SQLite transaction records the parts and marks their URLs done. A killed
  process therefore loses at most the rows of URLs still "in flight" in SQLite: on resume,
  unrecorded parts are deleted, those URLs are queued again and the final files are rebuilt from
  the recorded parts. At the end the final files are renamed into `run_dir` and
  `crawl_run.json` is written last.
* Levels are crawled in strict BFS order (a barrier between depths), so every page lands with
  its shortest click depth, redirect hops included.
* HTML is parsed in a worker process once the crawl is big enough (parse_pool.py): parsing is
  half the CPU of a crawl and the second core is otherwise idle.
* Redirect hops are claimed like queued URLs, so a hop URL is fetched once and gets its own row;
  a hop that another worker is fetching is awaited (with a deadlock check) instead of refetched.
* An auto-throttle watches a sliding window of responses and halves concurrency / doubles delay
  when errors (429, 5xx, timeouts, connection errors) pass the threshold, then stops the crawl.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.config import CrawlSettings, SiteConfig
from ingest.crawl.fetch import (
    ChainEnd,
    ErrorWindow,
    FetchResult,
    HopResponse,
    HostGate,
    fetch_url,
)
from ingest.crawl.frontier import DoneUrl, Frontier, NewUrl, QueuedUrl, State
from ingest.crawl.parse import looks_like_html
from ingest.crawl.parse_pool import LandedPage, ParseConfig, ParsePool
from ingest.crawl.progress import (
    CrawlProgress,
    CrawlSummary,
    landed_counts,
    log_progress,
    summary_counts,
)
from ingest.crawl.robots import RobotsCache, RobotsTxt
from ingest.crawl.state import (
    LinkBuffer,
    RunDirBusy,
    RunFiles,
    lock_run_dir,
    table_from_dict_rows,
)
from ingest.http import (
    AddressGuard,
    AddressRefused,
    Attempt,
    HostUnresolvable,
    RetryPolicy,
    client_transport_name,
    is_retryable_status,
    make_async_client,
)
from ingest.landing import (
    ERRORS_SCHEMA,
    PAGES_SCHEMA,
    write_json,
)
from ingest.urls import url_key

__all__ = [
    "CrawlProgress",
    "CrawlSummary",
    "RunDirBusy",
    "crawl_site",
    "crawl_site_async",
]

log = logging.getLogger("ingest.crawl")

Hop = tuple[str, int | None]

FLUSH_INTERVAL_S = 1.0
FLUSH_MAX_PAGES = 500
FLUSH_MAX_LINKS = 50_000
CLAIM_BATCH = 128  # URLs taken from SQLite (and marked in flight) at a time
CACHE_MAX = 200_000  # bound of the in-memory seen / url_key memo dicts (cleared when full)
MIN_THROTTLE_DELAY_S = 0.1  # doubling a zero delay starts here
BARRIER_PATIENCE_S = 2.0  # longest wait for a BFS level's stragglers before the next level
STOP_GRACE_S = 5.0  # how long a stop waits for jobs in flight before cancelling them

STOP_FRONTIER_EMPTY = "frontier_empty"
STOP_MAX_PAGES = "max_pages"
STOP_ERROR_RATE = "error_rate"
STOP_STOPPED = "stopped"

# Skip reasons that make a crawl incomplete (limits); exclusions and nofollow are choices.
LIMIT_REASONS = frozenset({"max_depth", "pattern_limit", "max_pages"})
# Chain endings that mean the fetch failed (as opposed to "continues at another row").
FAILED_CHAINS = frozenset({"redirect_loop", "too_many_redirects", "bad_redirect"})

PAGES_FILE = "pages.parquet"
LINKS_FILE = "links.parquet"
ERRORS_FILE = "errors.parquet"
RUN_FILE = "crawl_run.json"
STATE_DIR = ".state"

# Depth at which sitemap URLs are queued (crawl.seed_from_sitemaps). Levels are crawled in BFS
# order, so every page a link reaches is fetched first and keeps its link depth and found_on (a
# link discovery lowers a queued URL's depth); only pages no link reached stay at this level
# and land as `discovered_via = 'sitemap'`. It is not a click depth: the warehouse computes click
# depth and orphans from links and the start URLs only (int_click_depths), never from this.
SITEMAP_SEED_DEPTH = 1_000_000
META_SITEMAP_SEEDED = "sitemap_seeded"


def crawl_site(
    site: SiteConfig,
    run_dir: Path,
    *,
    progress: Callable[[CrawlProgress], None] | None = None,
    stop_event: threading.Event | None = None,
) -> CrawlSummary:
    """Crawl `site` into `run_dir` (resuming the state there, if any) and return the summary.

    Runs its own event loop; when called from inside a running loop (a notebook, an async
    Dagster op) the crawl runs in a helper thread instead.
    """

    def run() -> CrawlSummary:
        return asyncio.run(
            crawl_site_async(site, run_dir, progress=progress, stop_event=stop_event)
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="crawl") as pool:
        return pool.submit(run).result()


async def crawl_site_async(
    site: SiteConfig,
    run_dir: Path,
    *,
    progress: Callable[[CrawlProgress], None] | None = None,
    stop_event: threading.Event | None = None,
) -> CrawlSummary:
    """Async variant of crawl_site (same contract)."""
    run_dir = Path(run_dir)
    finished = _finished_summary(run_dir)
    if finished is not None:
        log.info("crawl %s: %s is already finished (%s)", site.id, run_dir, finished.stop_reason)
        return finished
    crawl = _Crawl(site, run_dir, progress, stop_event)
    return await crawl.run()


def _finished_summary(run_dir: Path) -> CrawlSummary | None:
    if not (run_dir / RUN_FILE).exists():
        return None
    summary = CrawlSummary.from_run_dir(run_dir)
    if summary.stop_reason == STOP_STOPPED and (run_dir / STATE_DIR).exists():
        return None  # a stopped crawl resumes
    return summary


def _now() -> datetime:
    return datetime.now(UTC)


def _discovered_via(url: str, requested: str, depth: int, found_on: str | None) -> str:
    """How the crawl came to `url`, from facts every row already has (the frontier keeps no
    more): a redirect hop is requested through another URL; without a referring page, a URL is
    a start URL (depth 0) or a sitemap seed (SITEMAP_SEED_DEPTH)."""
    if url != requested:
        return "redirect"
    if found_on is not None:
        return "link"
    return "sitemap" if depth >= SITEMAP_SEED_DEPTH else "start_url"


class _Job:
    """One URL taken from the queue and the redirect hops it claimed on the way."""

    __slots__ = ("root", "claims", "resolved")

    def __init__(self, root: QueuedUrl) -> None:
        self.root = root
        # url_key -> (url, depth, found_on) of every URL this job will write a row for.
        self.claims: dict[str, tuple[str, int, str | None]] = {}
        self.resolved: set[str] = set()


class _Crawl:
    def __init__(
        self,
        site: SiteConfig,
        run_dir: Path,
        progress: Callable[[CrawlProgress], None] | None,
        stop_event: threading.Event | None,
    ) -> None:
        self.site = site
        self.settings: CrawlSettings = site.crawl
        s = self.settings
        self.scope = site.scope()
        self.policy = site.url_policy
        self.run_dir = run_dir
        self.state_dir = run_dir / STATE_DIR
        self.progress_cb = progress
        self.stop_event = stop_event
        self.agent = s.robots_user_agent
        self.include = [re.compile(p) for p in s.include]
        self.exclude = [re.compile(p) for p in s.exclude]
        self.pattern_limits = [(re.compile(p.pattern), p.max_urls) for p in s.pattern_limits]
        self.pattern_counts = [0] * len(self.pattern_limits)
        self.parser = ParsePool(
            ParseConfig(self.scope, self.policy, dict(site.positions), s.max_body_text_chars),
            workers=s.parse_workers,
        )
        self.retry = RetryPolicy.from_settings(s)
        self.deadline_s = s.timeout_s * 3
        self.guard = AddressGuard(allow_private=s.allow_private)
        self.follow_nofollow = s.follow_nofollow
        # throttle
        self.limit = s.concurrency
        self.slowdowns = 0
        self.window = ErrorWindow(s.error_window, s.error_rate_threshold)
        self.gates: dict[str, HostGate] = {}
        self.crawl_delays: dict[str, float] = {}
        self.robots_summaries: dict[str, dict[str, Any]] = {}
        # scheduling
        self.ready: deque[QueuedUrl] = deque()
        self.ready_keys: set[str] = set()
        self.stolen: set[str] = set()
        self.active: dict[str, asyncio.Future[tuple[Hop, ...]]] = {}
        self.owner: dict[str, str] = {}
        self.waiting: dict[str, str] = {}
        self.pending_new: list[NewUrl] = []
        self.seen: dict[str, int] = {}
        self.keys: dict[str, str] = {}
        self.dirty = True
        self.n_active = 0
        self.n_claimed = 0
        self.active_depths: Counter[int] = Counter()
        self.barrier_since: float | None = None
        # buffers (swapped out on flush)
        self.page_rows: list[dict[str, Any]] = []
        self.links = LinkBuffer()
        self.error_rows: list[dict[str, Any]] = []
        self.done: list[DoneUrl] = []
        self.unflushed: dict[str, tuple[Hop, ...]] = {}
        self.flushing: dict[str, tuple[Hop, ...]] = {}
        self.unflushed_hops: set[str] = set()
        self.part_seq = 0
        # counters (persisted in the frontier's meta table)
        self.totals: Counter[str] = Counter()  # live counters (progress, requests, retries)
        self.landed: Counter[str] = Counter()  # rows in recorded parts, by state/kind/stage
        self.session_pages = 0
        self.session_started = time.monotonic()
        self.prior_active_s = 0.0
        self.stop_reason: str | None = None
        self.message: str | None = None
        self.stopping = False

    # ------------------------------------------------------------------------------------------
    # lifecycle

    async def run(self) -> CrawlSummary:
        self.changed = asyncio.Event()
        self.stop_now = asyncio.Event()
        self.flush_wanted = asyncio.Event()
        self.flush_lock = asyncio.Lock()
        self.workers_done = False
        self.session_started = time.monotonic()
        self._open_state()
        try:
            replay = [(name, kind) for name, kind, _ in self.frontier.parts()]
            await asyncio.to_thread(self.files.open_final, replay)
            s = self.settings
            self.client = make_async_client(
                s, s.transport, guard=self.guard, max_connections=s.concurrency + 8
            )
            try:
                self.transport = client_transport_name(self.client)
                self.robots = RobotsCache(
                    self.client,
                    retry=self.retry,
                    guard=self.guard,
                    slot=self._slot,
                    on_attempt=self._on_attempt,
                    deadline_s=self.deadline_s,
                    enabled=s.obey_robots,
                    on_loaded=self._robots_loaded,
                )
                try:
                    if s.seed_from_sitemaps and self.frontier.get_meta(META_SITEMAP_SEEDED) is None:
                        await self._seed_from_sitemaps()
                    return await self._crawl()
                finally:
                    await self.robots.aclose()
                    await self.parser.aclose()
            finally:
                await self.client.aclose()
        finally:
            self.files.abort()
            self.frontier.close()
            self._lock.close()

    async def _crawl(self) -> CrawlSummary:
        s = self.settings
        log.info(
            "crawl %s: %s into %s (transport %s, concurrency %d)",
            self.site.id,
            "resuming" if self.resumed else "starting",
            self.run_dir,
            self.transport,
            s.concurrency,
        )
        monitor = asyncio.create_task(self._monitor())
        workers = [asyncio.create_task(self._worker(i)) for i in range(s.concurrency)]
        stop_waiter = asyncio.create_task(self.stop_now.wait())
        try:
            pending: set[asyncio.Task[Any]] = set(workers)
            while pending and not self.stop_now.is_set():
                _, pending = await asyncio.wait(
                    pending | {stop_waiter}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(stop_waiter)
            if pending:
                # Stopping: let jobs in flight finish (so they are not fetched again on resume),
                # but not for longer than the grace period.
                await asyncio.wait(pending, timeout=min(STOP_GRACE_S, s.timeout_s))
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self.workers_done = True
            await monitor
            return await self._finalize()
        finally:
            stop_waiter.cancel()
            for task in workers:
                task.cancel()
            if not monitor.done():
                self.workers_done = True
                monitor.cancel()

    def _open_state(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = lock_run_dir(self.state_dir / "lock")
        self.files = RunFiles(self.run_dir, self.state_dir)
        self.frontier = Frontier(self.state_dir / "frontier.sqlite")
        started = self.frontier.get_meta("started_at")
        self.resumed = started is not None
        if not self.resumed:
            self.started_at = _now().isoformat()
            with self.frontier.transaction():
                self.frontier.set_meta("started_at", self.started_at)
                self.frontier.set_meta("sessions", 1)
            self._seed()
            return
        self.started_at = str(started)
        requeued = self.frontier.reset_in_flight()
        removed = self.files.remove_unrecorded({name for name, _, _ in self.frontier.parts()})
        meta = self.frontier.get_meta("counters", {}) or {}
        self.totals.update(meta.get("totals", {}))  # type: ignore[union-attr]
        self.landed.update(meta.get("landed", {}))  # type: ignore[union-attr]
        for name in ("pages", "links", "errors"):  # rows lost with the killed process are gone
            self.totals[name] = self.landed[name]
        self.prior_active_s = float(meta.get("active_s", 0.0))  # type: ignore[union-attr]
        self.part_seq = int(meta.get("part_seq", 0))  # type: ignore[union-attr]
        counts = meta.get("pattern_counts")  # type: ignore[union-attr]
        if counts and len(counts) == len(self.pattern_counts):
            self.pattern_counts = list(counts)
        self.n_claimed = self.frontier.count(State.DONE)
        sessions = int(self.frontier.get_meta("sessions", 1) or 1) + 1  # type: ignore[arg-type]
        self.frontier.set_meta("sessions", sessions)
        log.info(
            "crawl %s: resume #%d: %d URLs done, %d requeued from in flight, %d unrecorded "
            "part files removed",
            self.site.id,
            sessions - 1,
            self.n_claimed,
            requeued,
            removed,
        )

    def _seed(self) -> None:
        """Queue the start URLs (exempt from include/exclude: the user named them)."""
        for url in self.site.start_urls:
            key = self._key(url)
            if not self.scope.contains(url):
                self._error(
                    url, "scope", "start_url_out_of_scope", "start URL outside allowed_hosts"
                )
                continue
            self.pending_new.append(NewUrl(key, url, 0, None))
            self.seen[url] = 0

    async def _seed_from_sitemaps(self) -> None:
        """Queue the sitemaps' URLs behind every linked page (see SITEMAP_SEED_DEPTH).

        Done once per run: also on the first resume when a killed process had not finished it
        (the meta flag is written with the URLs). Sitemap URLs are not exempt from include /
        exclude and pattern limits as start URLs are, and robots.txt is checked when each is
        claimed, as for any URL. A sitemap that cannot be read does not stop the crawl.
        """
        from ingest.sitemaps.seed import sitemap_seed_urls_async  # the crawl runs without it

        try:
            urls = await sitemap_seed_urls_async(
                self.site, limit=self.settings.sitemap_seed_limit, client=self.client
            )
        except Exception as exc:  # noqa: BLE001 - seeding is a bonus; the link crawl goes on
            log.warning("crawl %s: sitemap seeding failed: %s", self.site.id, exc)
            urls = []
        n_new = 0
        for url in urls:
            if url in self.seen:  # a start URL
                continue
            key = self._key(url)
            reason = self._path_rule(url)
            state = State.QUEUED if reason is None else State.SKIPPED
            self.pending_new.append(NewUrl(key, url, SITEMAP_SEED_DEPTH, None, state, reason))
            self.seen[url] = SITEMAP_SEED_DEPTH
            n_new += reason is None
        with self.frontier.transaction():
            self._push_pending()
            self.frontier.set_meta(META_SITEMAP_SEEDED, len(urls))
        self.dirty = True
        log.info(
            "crawl %s: %d sitemap URLs read, %d queued behind the linked pages",
            self.site.id,
            len(urls),
            n_new,
        )

    # ------------------------------------------------------------------------------------------
    # scheduling

    def _budget(self) -> float:
        max_pages = self.settings.max_pages
        return float("inf") if max_pages is None else max_pages - self.n_claimed

    async def _worker(self, index: int) -> None:
        while not self.stopping and index < self.limit:
            item = await self._next()
            if item is None:
                return
            job = _Job(item)
            self.n_active += 1
            self.active_depths[item.depth] += 1
            try:
                await self._process(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad page must not end the crawl
                log.exception("crawl %s: internal error on %s", self.site.id, item.url)
                self._internal_error(job, exc)
            finally:
                self._abandon(job)
                self.n_active -= 1
                self.active_depths[item.depth] -= 1
                if not self.active_depths[item.depth]:
                    del self.active_depths[item.depth]
                self.changed.set()

    async def _next(self) -> QueuedUrl | None:
        """The next URL to fetch, or None when the crawl has nothing more to do.

        Levels are worked strictly in order (a BFS barrier): a URL of depth d+1 starts only
        when no depth-d job is left, so every URL is known at its shortest click depth before
        it is fetched (redirect hops included). A slow page holds the barrier for at most
        BARRIER_PATIENCE_S.
        """
        while True:
            if self.stopping:
                return None
            while self.ready:
                item = self.ready.popleft()
                self.ready_keys.discard(item.url_key)
                if item.url_key in self.stolen:
                    self.stolen.discard(item.url_key)
                    continue
                if self._budget() <= 0:
                    self.ready.appendleft(item)
                    self.ready_keys.add(item.url_key)
                    return None
                self.n_claimed += 1
                return item
            budget = self._budget()
            if budget <= 0:
                return None
            timeout: float | None = None
            if self.dirty or self.barrier_since is not None:
                self.dirty = False
                self._push_pending()
                level = self.frontier.min_queued_depth(self.unflushed_hops)
                if level is not None:
                    timeout = self._barrier_wait(level)
                    if timeout <= 0:
                        timeout = None
                        batch = int(min(CLAIM_BATCH, budget))
                        rows = self.frontier.claim(batch, self.unflushed_hops, level)
                        if rows:
                            self.ready.extend(rows)
                            self.ready_keys.update(r.url_key for r in rows)
                            self.dirty = True  # a claim takes one level: look again next time
                            continue
                        if self.unflushed_hops and self.n_active == 0:
                            # Only hop URLs awaiting their flush are queued at this level.
                            await self._flush()
                            continue
            if self.n_active == 0:
                # Nothing running could discover more: this is the end only if SQLite agrees.
                self._push_pending()
                if self.frontier.has_queued():
                    if self.unflushed_hops:
                        await self._flush()  # queued rows that are finished hops become done
                    self.dirty = True
                    continue
                self.changed.set()  # wake the others so they see the end too
                return None
            self.changed.clear()
            if timeout is None:
                await self.changed.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), timeout)

    def _barrier_wait(self, level: int) -> float:
        """Seconds to wait before starting `level` (0: go), see _next."""
        if not self.active_depths or min(self.active_depths) >= level:
            self.barrier_since = None
            return 0.0
        now = time.monotonic()
        if self.barrier_since is None:
            self.barrier_since = now
        return max(0.0, BARRIER_PATIENCE_S - (now - self.barrier_since))

    def _push_pending(self) -> None:
        """Write discovered URLs to the frontier, applying pattern limits on genuinely new ones."""
        if not self.pending_new:
            return
        batch, self.pending_new = self.pending_new, []
        if self.pattern_limits:
            batch = self._apply_pattern_limits(batch)
        with self.frontier.transaction():
            self.frontier.add(batch)
            if self.pattern_limits:
                self._save_counters()

    def _apply_pattern_limits(self, batch: list[NewUrl]) -> list[NewUrl]:
        candidates = [u for u in batch if u.state == State.QUEUED and self._pattern_of(u.url) >= 0]
        if not candidates:
            return batch
        existing = self.frontier.existing(u.url_key for u in candidates)
        out: list[NewUrl] = []
        counted: set[str] = set()
        for u in batch:
            index = self._pattern_of(u.url) if u.state == State.QUEUED else -1
            if index < 0 or u.url_key in existing or u.url_key in counted:
                out.append(u)
                continue
            if self.pattern_counts[index] >= self.pattern_limits[index][1]:
                out.append(
                    NewUrl(u.url_key, u.url, u.depth, u.found_on, State.SKIPPED, "pattern_limit")
                )
                continue
            self.pattern_counts[index] += 1
            counted.add(u.url_key)
            out.append(u)
        return out

    def _pattern_of(self, url: str) -> int:
        target = _path_query(url)
        for i, (pattern, _) in enumerate(self.pattern_limits):
            if pattern.search(target):
                return i
        return -1

    # ------------------------------------------------------------------------------------------
    # one URL

    def _key(self, url: str) -> str:
        key = self.keys.get(url)
        if key is None:
            if len(self.keys) >= CACHE_MAX:
                self.keys.clear()
            key = self.keys[url] = url_key(url)
        return key

    def _claim(self, job: _Job, key: str, url: str, depth: int, found_on: str | None) -> None:
        self.active[key] = asyncio.get_running_loop().create_future()
        self.owner[key] = job.root.url_key
        job.claims[key] = (url, depth, found_on)

    def _resolve(self, job: _Job, key: str, chain: tuple[Hop, ...]) -> None:
        fut = self.active.pop(key, None)
        self.owner.pop(key, None)
        if fut is not None and not fut.done():
            fut.set_result(chain)
        self.unflushed[key] = chain
        job.resolved.add(key)

    def _abandon(self, job: _Job) -> None:
        """A job that ended without rows for some claims (cancelled, crashed): release them."""
        for key, (url, _, _) in job.claims.items():
            if key in job.resolved:
                continue
            fut = self.active.pop(key, None)
            self.owner.pop(key, None)
            if fut is not None and not fut.done():
                fut.set_result(((url, None),))
            self.unflushed_hops.discard(key)
            self.n_claimed -= 1

    async def _process(self, job: _Job) -> None:
        item = job.root
        self._claim(job, item.url_key, item.url, item.depth, item.found_on)
        if not await self._allowed(job, item.url_key, item.url, item.depth, item.found_on, None):
            return
        result = await fetch_url(
            self.client,
            item.url,
            max_redirects=self.settings.max_redirects,
            max_bytes=self.settings.max_response_bytes,
            retry=self.retry,
            policy=self.policy,
            guard=self.guard,
            admit=lambda target, prev: self._admit(job, target, prev),
            slot=self._slot,
            keep_body=looks_like_html,
            on_attempt=self._on_attempt,
            deadline_s=self.deadline_s,
        )
        await self._land(job, result)

    async def _allowed(
        self,
        job: _Job,
        key: str,
        url: str,
        depth: int,
        found_on: str | None,
        requested: str | None,
    ) -> bool:
        """Robots check for a claimed URL; a blocked URL gets its row here."""
        if not self.settings.obey_robots:
            return True
        try:
            await self.guard.check_url(url)
        except (AddressRefused, HostUnresolvable):
            return True  # fetch_hop reports it (no request is made)
        rules = self.robots.cached(url) or await self.robots.get(url)
        if rules.can_fetch(url, self.agent):
            return True
        row = self._base_row(url, key, requested or url, depth, found_on)
        row["crawl_state"] = "blocked_by_robots"
        row["error"] = (
            f"robots.txt unavailable ({rules.error})"
            if rules.disallows_all
            else f"disallowed by {rules.robots_url} for {self.agent}"
        )
        self._add_page(row, DoneUrl(key, url, depth, found_on, None, None, None))
        self._resolve(job, key, ((url, None),))
        return False

    async def _admit(self, job: _Job, target: str, prev: str) -> ChainEnd | None:
        """May this redirect hop be fetched by this job? (scope, seen, limits, robots)"""
        if not self.scope.contains(target):
            self._error(
                target, "scope", "redirect_out_of_scope", f"redirect from {prev} leaves the scope",
                found_on=prev,
            )  # fmt: skip
            return ChainEnd(((target, None),), "out_of_scope")
        key = self._key(target)
        known = self.unflushed.get(key) or self.flushing.get(key)
        if known is not None:
            return ChainEnd(known, "seen")
        fut = self.active.get(key)
        if fut is not None:
            return await self._await_other(job, key, target, fut)
        depth = job.root.depth
        if key in self.ready_keys:  # claimed in a batch but not started: take it over
            self.ready_keys.discard(key)
            self.stolen.add(key)
        else:
            record = self.frontier.lookup(key)
            if record is not None and record.state == State.DONE:
                chain = record.chain or ((record.url, record.status),)
                if record.chain is None and record.final_url not in (None, record.url):
                    chain = ((record.url, record.status), (record.final_url, record.final_status))  # type: ignore[assignment]
                return ChainEnd(chain, "seen")  # type: ignore[arg-type]
            if record is not None and record.state == State.SKIPPED:
                return ChainEnd(((target, None),), record.reason or "skipped")
            if record is not None and record.state == State.IN_FLIGHT:
                return ChainEnd(((target, None),), "seen")
            if record is None:
                reason = self._path_rule(target)
                if reason is not None:
                    self.pending_new.append(NewUrl(key, target, depth, prev, State.SKIPPED, reason))
                    return ChainEnd(((target, None),), reason)
            else:
                depth = min(depth, record.depth)
            self.unflushed_hops.add(key)
        if self._budget() <= 0:
            self.unflushed_hops.discard(key)
            self.pending_new.append(NewUrl(key, target, depth, prev, State.SKIPPED, "max_pages"))
            return ChainEnd(((target, None),), "max_pages")
        self.n_claimed += 1
        self._claim(job, key, target, depth, prev)
        if not await self._allowed(job, key, target, depth, prev, job.root.url):
            return ChainEnd(((target, None),), "blocked_by_robots")
        return None

    async def _await_other(
        self, job: _Job, key: str, target: str, fut: asyncio.Future[tuple[Hop, ...]]
    ) -> ChainEnd:
        """Wait for the job fetching `target`, unless that job (transitively) waits for us."""
        me = job.root.url_key
        root: str | None = self.owner.get(key)
        visited: set[str] = set()
        while root is not None and root not in visited:
            if root == me:
                return ChainEnd(
                    ((target, None),), "redirect_loop", f"redirect loop through {target}"
                )
            visited.add(root)
            waits_for = self.waiting.get(root)
            root = self.owner.get(waits_for) if waits_for else None
        self.waiting[me] = key
        try:
            chain = await asyncio.shield(fut)
        finally:
            self.waiting.pop(me, None)
        return ChainEnd(chain, "seen")

    def _path_rule(self, url: str) -> str | None:
        """'excluded' / 'not_included' when include/exclude regexes (on path+query) say so."""
        if not self.include and not self.exclude:
            return None
        target = _path_query(url)
        if any(p.search(target) for p in self.exclude):
            return "excluded"
        if self.include and not any(p.search(target) for p in self.include):
            return "not_included"
        return None

    # ------------------------------------------------------------------------------------------
    # landing rows

    def _base_row(
        self, url: str, key: str, requested: str, depth: int, found_on: str | None
    ) -> dict[str, Any]:
        return {
            "url": url,
            "url_key": key,
            "requested_url": requested,
            "depth": depth,
            "found_on": found_on,
            "discovered_via": _discovered_via(url, requested, depth, found_on),
            "fetched_at": _now(),
        }

    async def _land(self, job: _Job, result: FetchResult) -> None:
        chain = tuple(result.chain)
        final_url, final_status = chain[-1]
        failed = result.stop_reason in FAILED_CHAINS
        requested = job.root.url
        root_found_on = job.root.found_on
        if failed:
            self._error(
                result.url, "fetch", result.stop_reason or "error", result.stop_message or "",
                found_on=root_found_on,
            )  # fmt: skip
        last_index = len(result.hops) - 1
        for i, hop in enumerate(result.hops):
            key = self._key(hop.url)
            url, depth, found_on = job.claims[key]
            row = self._base_row(url, key, requested, depth, found_on)
            row.update(
                status=hop.status,
                final_url=final_url,
                final_status=final_status,
                redirect_chain=[{"url": u, "status": st} for u, st in chain[i:]],
                content_type=hop.content_type,
                bytes=hop.n_bytes,
                truncated=hop.truncated,
                fetched_at=hop.fetched_at,
                response_ms=hop.response_ms,
            )
            if hop.status is not None and hop.status != 200:
                row["is_indexable"] = False
                row["indexability_reason"] = "non_200"
            links_depth = depth + 1
            if failed:
                row["crawl_state"] = "error"
                row["error"] = result.stop_message
            elif i < last_index or hop.location is not None:
                row["crawl_state"] = "redirect"
            else:
                await self._land_final(row, hop, links_depth)
            self._add_page(
                row,
                DoneUrl(
                    key, url, depth, found_on, hop.status, final_url, final_status,
                    chain[i:] if len(chain) - i > 1 else None,
                ),
            )  # fmt: skip
            self._resolve(job, key, chain[i:])

    async def _land_final(self, row: dict[str, Any], hop: HopResponse, links_depth: int) -> None:
        """Row fields of the response that ends a chain, parsing it when it is HTML."""
        status = hop.status
        is_html = status is not None and looks_like_html(hop.content_type, hop.body[:1024])
        row["is_html"] = is_html
        if status is None:
            row["crawl_state"] = "error"
            row["error"] = hop.error
            stage = "address_guard" if hop.error_kind == "address_refused" else "fetch"
            self._error(hop.url, stage, hop.error_kind or "error", hop.error or "", row["found_on"])
            return
        if is_retryable_status(status):
            kind = hop.error_kind or "http_error"
            message = hop.error or f"HTTP {status}"
            row["crawl_state"] = "error"
            row["error"] = message
            self._error(hop.url, "fetch", kind, message, row["found_on"], status)
            return
        if hop.truncated:
            self._error(
                hop.url, "fetch", "truncated",
                f"body cut at max_response_bytes={self.settings.max_response_bytes}",
                row["found_on"], status,
            )  # fmt: skip
        if not 200 <= status < 300:
            row["crawl_state"] = "ok"
            return
        if not is_html:
            row["crawl_state"] = "not_html"
            return
        row["crawl_state"] = "ok"
        try:
            page = await self.parser.parse(hop.body, hop.url, status, hop.headers)
        except Exception as exc:  # noqa: BLE001 - a page the parser chokes on is data too
            row["crawl_state"] = "error"
            row["error"] = f"parse failed: {type(exc).__name__}: {exc}"
            self._error(hop.url, "parse", "parse_error", row["error"], row["found_on"], status)
            return
        row.update(page.fields)
        self._add_links(hop.url, row["url_key"], page)
        self._discover(hop.url, page, links_depth)
        for href, reason in page.skipped_hrefs:
            kind = _skipped_href_kind(reason)
            if kind is not None:
                self._error(hop.url, "parse", kind, f"{reason}: {href!r}", row["found_on"], status)

    def _add_links(self, source_url: str, source_key: str, page: LandedPage) -> None:
        """Append a page's encoded link columns (bytes, built by the parser)."""
        self.links.add(page.links, source_url, source_key)
        self.totals["links"] += page.n_links
        if self.links.rows >= FLUSH_MAX_LINKS:
            self.flush_wanted.set()

    def _discover(self, source: str, page: LandedPage, depth: int) -> None:
        """Queue new internal targets (deduped through a bounded memo, then SQLite)."""
        seen = self.seen
        max_depth = self.settings.max_depth
        follow_all = self.follow_nofollow
        page_nofollow = page.is_nofollow_page
        if len(seen) >= CACHE_MAX:
            seen.clear()
        pending = self.pending_new
        before = len(pending)
        for target, is_internal, is_nofollow in page.link_rows():
            if not is_internal:
                continue
            known = seen.get(target)
            if known is not None and known <= depth:
                continue
            nofollow = not follow_all and (page_nofollow or is_nofollow)
            key = self._key(target)
            if nofollow:
                if known is None:
                    seen[target] = depth + 10_000  # any followed link still gets through
                    pending.append(NewUrl(key, target, depth, source, State.SKIPPED, "nofollow"))
                continue
            seen[target] = depth
            if max_depth is not None and depth > max_depth:
                pending.append(NewUrl(key, target, depth, source, State.SKIPPED, "max_depth"))
                continue
            reason = self._path_rule(target)
            if reason is not None:
                pending.append(NewUrl(key, target, depth, source, State.SKIPPED, reason))
                continue
            pending.append(NewUrl(key, target, depth, source))
        if len(pending) > before:
            self.dirty = True

    def _add_page(self, row: dict[str, Any], done: DoneUrl) -> None:
        self.page_rows.append(row)
        self.done.append(done)
        self.totals["pages"] += 1
        self.totals["state:" + row["crawl_state"]] += 1
        self.session_pages += 1
        if len(self.page_rows) >= FLUSH_MAX_PAGES:
            self.flush_wanted.set()

    def _error(
        self,
        url: str,
        stage: str,
        kind: str,
        message: str,
        found_on: str | None = None,
        status: int | None = None,
    ) -> None:
        self.error_rows.append(
            {
                "url": url,
                "url_key": self._key(url),
                "stage": stage,
                "kind": kind,
                "message": message,
                "status": status,
                "found_on": found_on,
                "at": _now(),
            }
        )
        self.totals["errors"] += 1

    def _internal_error(self, job: _Job, exc: Exception) -> None:
        message = f"internal error: {type(exc).__name__}: {exc}"
        for key, (url, depth, found_on) in job.claims.items():
            if key in job.resolved:
                continue
            row = self._base_row(url, key, job.root.url, depth, found_on)
            row["crawl_state"] = "error"
            row["error"] = message
            self._add_page(row, DoneUrl(key, url, depth, found_on, None, None, None))
            self._error(url, "crawl", "internal_error", message, found_on)
            self._resolve(job, key, ((url, None),))

    # ------------------------------------------------------------------------------------------
    # politeness and throttle

    def _gate(self, netloc: str) -> HostGate:
        gate = self.gates.get(netloc)
        if gate is None:
            gate = HostGate(self._host_limit(), self._host_delay(netloc))
            self.gates[netloc] = gate
        return gate

    def _slot(self, url: str) -> Any:
        return self._gate(url.split("/", 3)[2]).slot()

    def _host_limit(self) -> int:
        return max(1, self.settings.per_host_concurrency >> self.slowdowns)

    def _host_delay(self, netloc: str) -> float:
        s = self.settings
        base = s.delay_s
        if s.honour_crawl_delay and netloc in self.crawl_delays:
            base = max(base, min(self.crawl_delays[netloc], s.max_crawl_delay_s))
        if self.slowdowns == 0:
            return base
        if base > 0:
            return base * (2**self.slowdowns)
        return MIN_THROTTLE_DELAY_S * (2 ** (self.slowdowns - 1))

    def _robots_loaded(self, rules: RobotsTxt) -> None:
        netloc = rules.origin.split("//", 1)[1]
        self.robots_summaries[rules.origin] = rules.summary(self.agent)
        delay = rules.crawl_delay(self.agent)
        if delay is not None:
            self.crawl_delays[netloc] = delay
            if netloc in self.gates:
                self.gates[netloc].delay_s = self._host_delay(netloc)
        if rules.outcome == "unreachable":
            self._error(
                rules.robots_url, "robots", "robots_unreachable",
                f"{rules.error}; every URL on {rules.origin} is treated as disallowed (RFC 9309)",
                status=rules.status,
            )  # fmt: skip
        if rules.oversized:
            self._error(
                rules.robots_url, "robots", "robots_oversized",
                f"robots.txt is {rules.size_bytes} bytes; only the first 500 KiB are used",
                status=rules.status,
            )  # fmt: skip

    def _on_attempt(self, attempt: Attempt) -> None:
        self.totals["requests"] += 1
        if attempt.will_retry:
            self.totals["retries"] += 1
        if attempt.is_error:
            self.totals["error_events"] += 1
        rate = self.window.record(attempt.is_error)
        if rate is not None:
            self._slow_down(rate)

    def _slow_down(self, rate: float) -> None:
        n = self.window.size
        if self.stopping:
            return
        s = self.settings
        if self.slowdowns >= s.throttle_max_slowdowns:
            self.stop_reason = STOP_ERROR_RATE
            self.message = (
                f"stopped: {rate:.0%} of the last {n} responses were errors (429, 5xx, timeouts, "
                f"connection errors; threshold {s.error_rate_threshold:.0%}) after "
                f"{self.slowdowns} slowdowns to concurrency {self.limit}"
            )
            log.error("crawl %s: %s", self.site.id, self.message)
            self._request_stop()
            return
        self.slowdowns += 1
        self.limit = max(1, self.limit // 2)
        for netloc, gate in self.gates.items():
            gate.limit = self._host_limit()
            gate.delay_s = self._host_delay(netloc)
        log.warning(
            "crawl %s: %.0f%% of the last %d responses were errors; slowing down (%d/%d): "
            "concurrency %d, per-host %d",
            self.site.id,
            rate * 100,
            n,
            self.slowdowns,
            s.throttle_max_slowdowns,
            self.limit,
            self._host_limit(),
        )

    def _request_stop(self) -> None:
        self.stopping = True
        self.stop_now.set()
        self.changed.set()

    # ------------------------------------------------------------------------------------------
    # monitor, flush, progress

    async def _monitor(self) -> None:
        interval = self.settings.progress_interval_s
        last_flush = last_progress = time.monotonic()
        while not self.workers_done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush_wanted.wait(), timeout=0.1)
            now = time.monotonic()
            if self.stop_event is not None and self.stop_event.is_set() and not self.stopping:
                self.stop_reason = STOP_STOPPED
                self.message = "stopped on request; run again to resume"
                log.warning("crawl %s: %s", self.site.id, self.message)
                self._request_stop()
            if self.flush_wanted.is_set() or now - last_flush >= FLUSH_INTERVAL_S:
                self.flush_wanted.clear()
                last_flush = now
                await self._flush()
            if now - last_progress >= interval:
                last_progress = now
                self._report()

    def _progress(self, final: bool = False) -> CrawlProgress:
        elapsed = time.monotonic() - self.session_started
        return CrawlProgress(
            site_id=self.site.id,
            elapsed_s=round(elapsed, 3),
            pages=self.totals["pages"],
            pages_per_s=round(self.session_pages / elapsed, 1) if elapsed > 0 else 0.0,
            queued=len(self.ready) + self._queued_estimate(),
            in_flight=self.n_active,
            errors=self.totals["errors"],
            links=self.totals["links"],
            concurrency=self.limit,
            slowdowns=self.slowdowns,
            final=final,
        )

    def _queued_estimate(self) -> int:
        return self.frontier.count(State.QUEUED)

    def _report(self, final: bool = False) -> None:
        snapshot = self._progress(final)
        log_progress(snapshot)
        if self.progress_cb is not None:
            try:
                self.progress_cb(snapshot)
            except Exception:  # noqa: BLE001 - a broken callback must not end the crawl
                log.exception("crawl %s: progress callback failed", self.site.id)

    def _save_counters(self) -> None:
        self.frontier.set_meta(
            "counters",
            {
                "totals": dict(self.totals),
                "landed": dict(self.landed),
                "active_s": self.prior_active_s + (time.monotonic() - self.session_started),
                "part_seq": self.part_seq,
                "pattern_counts": self.pattern_counts,
            },
        )

    async def _flush(self) -> None:
        """Write buffered rows (part files + final files), then record the parts and mark their
        URLs done in ONE commit: a URL is done exactly when its rows are durable."""
        async with self.flush_lock:
            pages, self.page_rows = self.page_rows, []
            links, self.links = self.links, LinkBuffer()
            errors, self.error_rows = self.error_rows, []
            done, self.done = self.done, []
            self.flushing, self.unflushed = self.unflushed, {}
            if not pages and not errors and not done and not links.rows:
                self._push_pending()
                self.flushing = {}
                return
            seq = self.part_seq
            self.part_seq += 1
            landed = landed_counts(pages, errors, links.rows)
            parts = await asyncio.to_thread(self._write_flush, seq, pages, links, errors)
            with self.frontier.transaction():
                self._push_pending()
                self.frontier.record_parts(parts)
                self.frontier.mark_done(done)
                self.landed.update(landed)
                self._save_counters()
            self.unflushed_hops.difference_update(d.url_key for d in done)
            self.flushing = {}
            self.dirty = True

    def _write_flush(
        self,
        seq: int,
        pages: list[dict[str, Any]],
        links: LinkBuffer,
        errors: list[dict[str, Any]],
    ) -> list[tuple[str, str, int]]:
        tables = {
            "pages": table_from_dict_rows(pages, PAGES_SCHEMA),
            "links": links.to_table(),
            "errors": table_from_dict_rows(errors, ERRORS_SCHEMA),
        }
        return self.files.write_flush(seq, tables)

    # ------------------------------------------------------------------------------------------
    # the end

    async def _finalize(self) -> CrawlSummary:
        await self._flush()
        self._report(final=True)
        self.frontier.reset_in_flight()  # claimed but never processed: back in the queue
        remaining = self.frontier.count(State.QUEUED)
        skipped = Counter(
            reason
            for rows in self.frontier.iter_state([State.SKIPPED])
            for (_, _, _, _, _, reason) in rows
        )
        if self.stop_reason is None:
            hit_max = remaining > 0 or skipped.get("max_pages", 0) > 0
            self.stop_reason = STOP_MAX_PAGES if hit_max else STOP_FRONTIER_EMPTY
            if hit_max:
                self.message = (
                    f"max_pages={self.settings.max_pages} reached; {remaining} queued URLs "
                    "were not crawled"
                )
        limits = sorted(r for r in skipped if r in LIMIT_REASONS)
        complete = self.stop_reason == STOP_FRONTIER_EMPTY and not limits and not self.slowdowns
        if self.stop_reason == STOP_FRONTIER_EMPTY and (limits or self.slowdowns):
            why = [f"limits hit: {', '.join(limits)}"] if limits else []
            if self.slowdowns:
                why.append(f"error rate passed the threshold ({self.slowdowns} slowdowns)")
            self.message = "frontier ran dry but the crawl is incomplete: " + "; ".join(why)
        unreached = await asyncio.to_thread(self._write_unreached_errors)
        await asyncio.to_thread(self.files.commit)
        finished_at = _now().isoformat()
        counts = summary_counts(self.landed + unreached)
        active_s = self.prior_active_s + (time.monotonic() - self.session_started)
        data = {
            "site_id": self.site.id,
            "started_at": self.started_at,
            "finished_at": finished_at,
            "stop_reason": self.stop_reason,
            "complete": complete,
            "message": self.message,
            "transport": self.transport,
            "pages_per_s": round(counts["pages"] / active_s, 1) if active_s > 0 else 0.0,
            "crawl_seconds": round(active_s, 3),
            "sessions": self.frontier.get_meta("sessions", 1),
            "start_urls": list(self.site.start_urls),
            "allowed_hosts": sorted(self.scope.allowed_hosts),
            "settings": self.settings.model_dump(mode="json"),
            "url_policy": self.site.urls.model_dump(mode="json"),
            "counts": {
                **counts,
                "requests": self.totals["requests"],
                "retries": self.totals["retries"],
                "error_events": self.totals["error_events"],
                "queued_not_crawled": remaining,
            },
            "throttle": {
                "slowdowns": self.slowdowns,
                "concurrency": self.limit,
                "per_host_concurrency": self._host_limit(),
                "host_delays_s": {n: g.delay_s for n, g in self.gates.items()},
            },
            "robots": self.robots_summaries,
            "files": {"pages": PAGES_FILE, "links": LINKS_FILE, "errors": ERRORS_FILE},
        }
        write_json(data, self.run_dir / RUN_FILE)
        log.info(
            "crawl %s: %s (%s): %d pages, %d links, %d errors, %.0f pages/s",
            self.site.id,
            self.stop_reason,
            "complete" if complete else "incomplete",
            counts["pages"],
            counts["links"],
            counts["errors"],
            data["pages_per_s"],
        )
        if self.stop_reason != STOP_STOPPED:
            self.frontier.close()
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.frontier = _ClosedFrontier()  # type: ignore[assignment]
        return CrawlSummary.from_run_dir(self.run_dir)

    def _write_unreached_errors(self) -> Counter[str]:
        """Error rows for every URL the crawl decided not to (or could not) fetch, streamed from
        the frontier into the final errors file. Regenerated at every finalize (never in parts)."""
        at = _now()
        messages = {
            "max_depth": f"deeper than max_depth={self.settings.max_depth}",
            "pattern_limit": "pattern_limits: the pattern already has its maximum of URLs",
            "excluded": "path+query matches an exclude pattern",
            "not_included": "path+query matches no include pattern",
            "nofollow": "only reached through nofollow links (follow_nofollow is off)",
            "max_pages": f"max_pages={self.settings.max_pages} reached",
        }
        queued_kind = "max_pages" if self.stop_reason == STOP_MAX_PAGES else "not_crawled"
        queued_message = (
            messages["max_pages"]
            if queued_kind == "max_pages"
            else f"crawl stopped ({self.stop_reason}) before this URL was fetched"
        )
        counts: Counter[str] = Counter()
        for rows in self.frontier.iter_state([State.SKIPPED, State.QUEUED]):
            out = []
            for key, url, _depth, found_on, state, reason in rows:
                if state == State.SKIPPED:
                    kind = reason or "skipped"
                    message = messages.get(kind, kind)
                else:
                    kind, message = queued_kind, queued_message
                out.append(
                    {
                        "url": url,
                        "url_key": key,
                        "stage": "scope",
                        "kind": kind,
                        "message": message,
                        "status": None,
                        "found_on": found_on,
                        "at": at,
                    }
                )
            counts.update(landed_counts([], out, 0))
            self.files.append_final("errors", table_from_dict_rows(out, ERRORS_SCHEMA))
        return counts


class _ClosedFrontier:
    def close(self) -> None:
        pass


def _skipped_href_kind(reason: str) -> str | None:
    """Error kind for an href the parser could not use; None for non-web schemes (mailto:,
    tel:, javascript:), which are not errors."""
    if "scheme:" in reason:
        return None
    head = reason.split(":", 1)[0]
    if head in ("canonical", "hreflang", "base"):
        return f"invalid_{head}"
    return "invalid_href"


def _path_query(url: str) -> str:
    """Path + query of a normalized URL (scheme://netloc/path?query) without urlsplit."""
    parts = url.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else "/"
