"""robots.txt per host (RFC 9309), parsed by protego, fetched once per crawl through our client.

Status handling follows RFC 9309 section 2.3.1: a 4xx means "no robots.txt" and everything is
allowed; a 5xx, a 429 (as Google treats it) or an unreachable server means the crawler must
assume everything is disallowed, because the site may be unable to tell us what is off limits.
That outcome is recorded so a crawl that fetched nothing explains itself. Only the first 500 KiB
are parsed (Google's limit); larger files are flagged.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from ingest.crawl.fetch import FetchResult, HostSlot, fetch_url
from ingest.http import AddressGuard, Attempt, RetryPolicy

ROBOTS_MAX_PARSE_BYTES = 500 * 1024
ROBOTS_MAX_READ_BYTES = 2 * 1024 * 1024  # read past the parse limit only to report the size
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309: follow at least five
GOOGLEBOT = "Googlebot"

Outcome = Literal["parsed", "unavailable", "unreachable", "refused", "disabled"]


def decode_robots(body: bytes) -> str:
    """Text of a robots.txt body: BOM-aware (UTF-8, UTF-16 LE/BE), else UTF-8 with replacement.

    Non-UTF-8 bytes nearly always sit in comments, so replacing them keeps every directive.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if body.startswith(codecs.BOM_UTF16_LE) or body.startswith(codecs.BOM_UTF16_BE):
        return body.decode("utf-16", errors="replace")
    return body.decode("utf-8", errors="replace")


# Google's parser (github.com/google/robotstxt, robots.cc) accepts these misspellings, and a
# missing ':' when whitespace separates key and value. protego does not, so a file that says
# "Disalow: /x" or "Disallow /" would block Googlebot but not us; rewriting those lines first
# makes our answers (and the Googlebot answers we report) match Google's.
_GOOGLE_KEYS = {
    "user-agent": "User-agent",
    "useragent": "User-agent",
    "user agent": "User-agent",
    "allow": "Allow",
    "disallow": "Disallow",
    "dissallow": "Disallow",
    "dissalow": "Disallow",
    "disalow": "Disallow",
    "diasllow": "Disallow",
    "disallaw": "Disallow",
    "sitemap": "Sitemap",
    "site-map": "Sitemap",
    "crawl-delay": "Crawl-delay",
}
_KEY_LINE = re.compile(
    r"^[ \t]*(user[ -]?agent|allow|disallow|dissallow|dissalow|disalow|diasllow|disallaw|"
    r"sitemap|site-map|crawl-delay)[ \t]*(?::|[ \t](?=[ \t]*[^\s:]))[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)


def google_compatible(text: str) -> str:
    """Rewrite directive spellings Google accepts (typos, missing colon) to canonical ones."""
    return _KEY_LINE.sub(lambda m: _GOOGLE_KEYS[m.group(1).lower()] + ": ", text)


def cut_at_line(body: bytes, limit: int) -> bytes:
    """First `limit` bytes, ending at the last line break so no directive is cut in half.

    Public because the sitemap side lands the exact text the crawler parsed (one rule for both).
    """
    if len(body) <= limit:
        return body
    head = body[:limit]
    end = max(head.rfind(b"\n"), head.rfind(b"\r"))
    return head[: end + 1] if end >= 0 else head


@dataclass(frozen=True)
class RobotsTxt:
    """The rules for one origin (scheme://host[:port]) and how we obtained them."""

    origin: str
    robots_url: str
    outcome: Outcome
    status: int | None = None
    size_bytes: int | None = None
    oversized: bool = False
    sitemaps: tuple[str, ...] = ()
    error: str | None = None
    final_url: str | None = None
    parser: Protego | None = field(default=None, repr=False, compare=False)

    @property
    def allows_all(self) -> bool:
        return self.outcome in ("unavailable", "disabled") or (
            self.outcome == "parsed" and self.parser is None
        )

    @property
    def disallows_all(self) -> bool:
        return self.outcome in ("unreachable", "refused")

    def can_fetch(self, url: str, agent: str) -> bool:
        """May `agent` fetch `url`? /robots.txt itself is always allowed (RFC 9309 2.2.2)."""
        if urlsplit(url).path == "/robots.txt":
            return True
        if self.disallows_all:
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, agent))

    def can_googlebot_fetch(self, url: str) -> bool:
        return self.can_fetch(url, GOOGLEBOT)

    def crawl_delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return float(delay) if delay is not None else None

    def summary(self, agent: str) -> dict[str, Any]:
        """JSON-friendly record for crawl_run.json."""
        return {
            "robots_url": self.robots_url,
            "final_url": self.final_url,
            "outcome": self.outcome,
            "status": self.status,
            "size_bytes": self.size_bytes,
            "oversized": self.oversized,
            "sitemaps": list(self.sitemaps),
            "crawl_delay": self.crawl_delay(agent),
            "error": self.error,
        }


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def parse_robots(
    body: bytes,
    robots_url: str,
    *,
    status: int | None = 200,
    size_bytes: int | None = None,
    final_url: str | None = None,
) -> RobotsTxt:
    """Rules from a robots.txt body (first 500 KiB), with Sitemap: lines made absolute."""
    size = len(body) if size_bytes is None else size_bytes
    text = google_compatible(decode_robots(cut_at_line(body, ROBOTS_MAX_PARSE_BYTES)))
    parser = Protego.parse(text)
    base = final_url or robots_url
    sitemaps: list[str] = []
    for raw in parser.sitemaps:
        absolute = urljoin(base, raw.strip())
        if absolute not in sitemaps:
            sitemaps.append(absolute)
    return RobotsTxt(
        origin=origin_of(robots_url),
        robots_url=robots_url,
        outcome="parsed",
        status=status,
        size_bytes=size,
        oversized=size > ROBOTS_MAX_PARSE_BYTES,
        sitemaps=tuple(sitemaps),
        final_url=final_url,
        parser=parser,
    )


def robots_from_fetch(robots_url: str, result: FetchResult) -> RobotsTxt:
    """Map a fetch outcome to rules per RFC 9309 (see module docstring)."""
    origin = origin_of(robots_url)
    last = result.last
    status = result.final_status
    if result.stop_reason in ("address_refused",):
        return RobotsTxt(origin, robots_url, "refused", error=result.stop_message)
    if result.stop_reason in ("too_many_redirects", "redirect_loop", "bad_redirect"):
        # RFC 9309 2.3.1.2: after too many redirects, treat robots.txt as unavailable.
        return RobotsTxt(
            origin, robots_url, "unavailable", status=last.status if last else None,
            error=result.stop_message,
        )  # fmt: skip
    if last is None or last.status is None:
        message = result.stop_message or (last.error if last else None) or "no response"
        return RobotsTxt(origin, robots_url, "unreachable", error=message)
    if status is not None and 200 <= status < 300:
        size = last.n_bytes
        content_length = last.headers.get("content-length")
        if last.truncated and content_length and content_length.isdigit():
            size = max(size, int(content_length))
        return parse_robots(
            last.body,
            robots_url,
            status=status,
            size_bytes=size,
            final_url=last.url if last.url != robots_url else None,
        )
    if status == 429 or (status is not None and status >= 500):
        return RobotsTxt(
            origin,
            robots_url,
            "unreachable",
            status=status,
            error=f"robots.txt answered HTTP {status}: assuming everything is disallowed",
            final_url=last.url,
        )
    # 4xx (and any other non-success answer): no rules, everything allowed.
    return RobotsTxt(origin, robots_url, "unavailable", status=status, final_url=last.url)


async def fetch_robots(
    client: httpx.AsyncClient,
    origin: str,
    *,
    retry: RetryPolicy,
    guard: AddressGuard | None = None,
    slot: HostSlot | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    deadline_s: float | None = None,
) -> RobotsTxt:
    """Fetch and interpret `origin`/robots.txt (redirects to other hosts are followed, guarded)."""
    robots_url = origin.rstrip("/") + "/robots.txt"
    result = await fetch_url(
        client,
        robots_url,
        max_redirects=ROBOTS_MAX_REDIRECTS,
        max_bytes=ROBOTS_MAX_READ_BYTES,
        retry=retry,
        guard=guard,
        slot=slot,
        on_attempt=on_attempt,
        deadline_s=deadline_s,
        headers={"Accept": "text/plain,*/*;q=0.8"},
    )
    return robots_from_fetch(robots_url, result)


class RobotsCache:
    """One robots.txt per origin per crawl; concurrent callers share the single fetch."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy,
        guard: AddressGuard | None = None,
        slot: HostSlot | None = None,
        on_attempt: Callable[[Attempt], None] | None = None,
        deadline_s: float | None = None,
        enabled: bool = True,
        on_loaded: Callable[[RobotsTxt], None] | None = None,
    ) -> None:
        self._client = client
        self._retry = retry
        self._guard = guard
        self._slot = slot
        self._on_attempt = on_attempt
        self._deadline_s = deadline_s
        self._enabled = enabled
        self._on_loaded = on_loaded
        self._tasks: dict[str, asyncio.Future[RobotsTxt]] = {}
        self._done: dict[str, RobotsTxt] = {}

    def cached(self, url: str) -> RobotsTxt | None:
        """Rules for `url`'s origin if already fetched (the fast path: no await)."""
        return self._done.get(origin_of(url))

    async def get(self, url: str) -> RobotsTxt:
        origin = origin_of(url)
        done = self._done.get(origin)
        if done is not None:
            return done
        task = self._tasks.get(origin)
        if task is None:
            task = asyncio.ensure_future(self._load(origin))
            self._tasks[origin] = task
        return await asyncio.shield(task)

    async def _load(self, origin: str) -> RobotsTxt:
        if not self._enabled:
            rules = RobotsTxt(origin, origin + "/robots.txt", "disabled")
        else:
            rules = await fetch_robots(
                self._client,
                origin,
                retry=self._retry,
                guard=self._guard,
                slot=self._slot,
                on_attempt=self._on_attempt,
                deadline_s=self._deadline_s,
            )
        self._done[origin] = rules
        if self._on_loaded is not None:
            self._on_loaded(rules)
        return rules

    def all(self) -> Iterable[RobotsTxt]:
        return list(self._done.values())

    async def aclose(self) -> None:
        for task in self._tasks.values():
            if not task.done():
                task.cancel()
