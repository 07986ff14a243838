"""HTML parsing for the crawler, in a worker process once a crawl is big enough to pay for it.

Why: a crawl is bound by Python CPU, and parsing (lexbor + link resolution + positions) is about
half of it. lexbor holds the GIL, so a thread does not help; a second process uses the second
core. The worker returns what the crawler lands, already in columns (plain lists of strings,
ints and bools pickle ~10x faster than ~300 link objects a page), link columns already encoded
to bytes (state.LinkBuffer joins them without touching a Python value per link), plus the
url_keys. This module must not import pyarrow: the worker would carry ~40 MB more.

Small crawls (tests, a few hundred pages) never pay the worker's start-up: pages are parsed in
process until `start_after` pages, then the worker is started in the background and takes over
once it has imported everything and said "ready". The same function runs in both places, so
results are identical.
`crawl.parse_workers: 0` in the site config keeps everything in process.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import os
import pickle
import struct
import sys
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.crawl.parse import parse_page
from ingest.crawl.positions import PositionRules
from ingest.urls import Scope, UrlPolicy, url_key

log = logging.getLogger("ingest.crawl")

# LinkColumns attributes that land as-is in LINKS_SCHEMA columns of the same name.
LINK_FIELD_NAMES = (
    "target_url",
    "anchor_text",
    "position",
    "link_index",
    "is_internal",
    "is_nofollow",
    "is_ugc",
    "is_sponsored",
    "is_image",
    "rel",
    "href_raw",
)
_KEY_CACHE_MAX = 200_000
# Share of pages the crawler parses itself while the worker is busy. Measured on the python docs
# (2 cores): parsing is ~60% of the CPU of a page and the crawler's own work ~40%, so the
# crawler taking about a quarter of the parsing keeps both processes equally busy. Sending it
# everything instead (a queue-length threshold) made the crawler parse most pages itself.
LOCAL_SHARE = 0.25


LINK_STRING_COLUMNS = ("target_url", "anchor_text", "position", "rel", "href_raw")
LINK_FLAG_COLUMNS = ("is_internal", "is_nofollow", "is_ugc", "is_sponsored", "is_image")


def encode_strings(values: Sequence[str | None]) -> tuple[bytes, bytes]:
    """(UTF-8 data, int32 byte lengths) of strings; None is stored as ""."""
    texts: Sequence[str] = [v or "" for v in values] if None in values else values  # type: ignore[misc]
    joined = "".join(texts)
    if joined.isascii():
        return joined.encode("ascii"), array.array("i", map(len, texts)).tobytes()
    parts = "\x00".join(texts).encode("utf-8", "replace").split(b"\x00")
    if len(parts) != len(texts):
        parts = [t.encode("utf-8", "replace") for t in texts]
    return b"".join(parts), array.array("i", map(len, parts)).tobytes()


@dataclass(frozen=True)
class EncodedLinks:
    """One page's links in LINKS_SCHEMA columns, encoded to bytes (cheap to pickle and join)."""

    n: int
    strings: dict[str, tuple[bytes, bytes]]  # LINK_STRING_COLUMNS + target_key
    flags: dict[str, bytes]  # LINK_FLAG_COLUMNS, one 0/1 byte per link
    link_index: bytes  # int32

    @classmethod
    def from_columns(
        cls, columns: Mapping[str, Sequence[Any]], target_keys: Sequence[str]
    ) -> EncodedLinks:
        n = len(target_keys)
        strings = {name: encode_strings(columns[name]) for name in LINK_STRING_COLUMNS}
        strings["target_key"] = encode_strings(target_keys)
        flags = {name: bytes(columns[name]) for name in LINK_FLAG_COLUMNS}
        index = array.array("i", columns["link_index"]).tobytes()
        return cls(n, strings, flags, index)


@dataclass(frozen=True)
class ParseConfig:
    """Everything parse_page needs besides the response; picklable for the worker."""

    scope: Scope
    policy: UrlPolicy
    positions: Mapping[str, tuple[str, ...]]
    max_body_text_chars: int


@dataclass(frozen=True)
class LandedPage:
    """A parsed page as the crawler lands it."""

    fields: dict[str, Any]  # PAGES_SCHEMA columns that come from the HTML
    links: EncodedLinks  # LINKS_SCHEMA columns, encoded (state.py)
    targets: list[str]  # target_url of each link, for discovery
    is_nofollow_page: bool
    skipped_hrefs: list[tuple[str, str]]

    @property
    def n_links(self) -> int:
        return self.links.n

    def link_rows(self) -> Iterable[tuple[str, int, int]]:
        """(target_url, is_internal, is_nofollow) per link (flags as 0/1)."""
        flags = self.links.flags
        return zip(self.targets, flags["is_internal"], flags["is_nofollow"], strict=True)


class _Parser:
    """parse_page bound to one crawl's config, with a url_key memo (same targets recur)."""

    def __init__(self, config: ParseConfig) -> None:
        self.config = config
        self.rules = PositionRules.from_overrides(config.positions)
        self.keys: dict[str, str] = {}

    def __call__(
        self, body: bytes, url: str, status: int, headers: Mapping[str, str]
    ) -> LandedPage:
        c = self.config
        parsed = parse_page(
            body,
            url,
            status=status,
            headers=headers,
            scope=c.scope,
            policy=c.policy,
            position_rules=self.rules,
            max_body_text_chars=c.max_body_text_chars,
        )
        links = parsed.link_columns
        columns = {name: getattr(links, name) for name in LINK_FIELD_NAMES}
        keys = self.keys
        if len(keys) > _KEY_CACHE_MAX:
            keys.clear()
        targets = links.target_url
        target_keys = list(map(keys.get, targets))
        if None in target_keys:
            for i, key in enumerate(target_keys):
                if key is None:
                    target = targets[i]
                    key = keys.get(target)
                    if key is None:
                        key = keys[target] = url_key(target)
                    target_keys[i] = key
        fields = {
            "canonical": parsed.canonical,
            "canonical_source": parsed.canonical_source,
            "meta_robots": parsed.meta_robots,
            "x_robots_tag": parsed.x_robots_tag,
            "is_indexable": parsed.is_indexable,
            "indexability_reason": parsed.indexability_reason,
            "title": parsed.title,
            "h1": parsed.h1,
            "meta_description": parsed.meta_description,
            "word_count": parsed.word_count,
            "content_hash": parsed.content_hash,
            "hreflang": [{"lang": lang, "href": href} for lang, href in parsed.hreflang],
            "base_href": parsed.base_href,
            "encoding": parsed.encoding,
            "body_text": parsed.body_text,
            "n_links": len(links),
        }
        encoded = EncodedLinks.from_columns(columns, target_keys)
        return LandedPage(fields, encoded, targets, parsed.is_nofollow_page, parsed.skipped_hrefs)


def default_workers() -> int:
    """One parse worker on a machine with a spare core, none otherwise (`crawl.parse_workers`)."""
    return 1 if (os.cpu_count() or 1) >= 2 else 0


class ParsePool:
    """Parses in process until `start_after` pages, then in one worker process.

    The worker is a plain `python -c` subprocess speaking length-prefixed pickles over its
    stdin/stdout, not multiprocessing: multiprocessing's spawn/forkserver re-run the caller's
    main script in the child, which breaks any script without a `__main__` guard, and fork is
    unsafe in a process with threads. Answers come back in request order (one worker, FIFO).
    If the worker dies, its pending pages and all later ones are parsed in process. While the
    worker is busy, LOCAL_SHARE of the pages are parsed in process (work sharing).
    """

    def __init__(
        self, config: ParseConfig, *, workers: int | None = None, start_after: int = 150
    ) -> None:
        self._local = _Parser(config)
        self._config = config
        self._enabled = (default_workers() if workers is None else workers) > 0
        self._start_after = start_after
        self._pages = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: deque[asyncio.Future[LandedPage]] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._local_credit = 0.0
        self._started = False
        self._ready = False
        self._failed = False

    @property
    def in_worker(self) -> bool:
        return self._ready and not self._failed

    async def parse(
        self, body: bytes, url: str, status: int, headers: Mapping[str, str]
    ) -> LandedPage:
        self._pages += 1
        if self._enabled and not self._started and self._pages >= self._start_after:
            self._started = True
            await self._start()
        local = False
        if self._pending:
            self._local_credit += LOCAL_SHARE
            if self._local_credit >= 1.0:
                self._local_credit -= 1.0
                local = True
        if not local and self.in_worker and self._proc is not None and self._proc.stdin is not None:
            fut: asyncio.Future[LandedPage] = asyncio.get_running_loop().create_future()
            payload = pickle.dumps((body, url, status, dict(headers)), protocol=5)
            self._pending.append(fut)
            try:
                self._proc.stdin.write(_HEADER.pack(len(payload)) + payload)
                await self._proc.stdin.drain()
                return await fut
            except _WorkerGone:
                pass
            except (ConnectionError, OSError) as exc:
                self._fail(exc)
        return self._local(body, url, status, headers)

    async def _start(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from ingest.crawl.parse_pool import serve; serve()",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
            )
            assert self._proc.stdin is not None
            config = pickle.dumps(self._config, protocol=5)
            self._proc.stdin.write(_HEADER.pack(len(config)) + config)
            self._reader = asyncio.create_task(self._read())
            log.debug("parse worker %d starting", self._proc.pid)
        except Exception as exc:  # noqa: BLE001 - parsing in process still works
            self._fail(exc)

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        try:
            hello = await _read_message(stdout)
            if hello != "ready":
                raise RuntimeError(f"unexpected hello {hello!r}")
            self._ready = True
            while True:
                kind, value = await _read_message(stdout)
                fut = self._pending.popleft()
                if fut.done():
                    continue
                if kind == "ok":
                    fut.set_result(value)
                else:
                    fut.set_exception(RuntimeError(value))
        except (asyncio.IncompleteReadError, ConnectionError, RuntimeError, EOFError) as exc:
            self._fail(exc)
        finally:
            while self._pending:
                fut = self._pending.popleft()
                if not fut.done():
                    fut.set_exception(_WorkerGone())

    def _fail(self, exc: BaseException | None) -> None:
        if not self._failed:
            log.warning("parse worker unavailable (%s); parsing in process", exc)
        self._failed = True

    async def aclose(self) -> None:
        self._failed = True
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), timeout=5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
            self._proc = None
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


class _WorkerGone(Exception):
    """The worker died with this page pending: parse it in process instead."""


_HEADER = struct.Struct(">I")


async def _read_message(stream: asyncio.StreamReader) -> Any:
    size = _HEADER.unpack(await stream.readexactly(_HEADER.size))[0]
    return pickle.loads(await stream.readexactly(size))


def serve() -> None:
    """Worker entry point: config first, then (body, url, status, headers) -> LandedPage."""
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but protocol frames may reach the real stdout

    def read() -> Any:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack(head)
        return pickle.loads(stdin.read(size))

    def write(obj: Any) -> None:
        data = pickle.dumps(obj, protocol=5)
        stdout.write(_HEADER.pack(len(data)) + data)
        stdout.flush()

    config = read()
    if config is None:
        return
    parser = _Parser(config)
    write("ready")
    while (request := read()) is not None:
        try:
            write(("ok", parser(*request)))
        except Exception as exc:  # noqa: BLE001 - reported to the crawler as a parse error
            write(("error", f"{type(exc).__name__}: {exc}"))
