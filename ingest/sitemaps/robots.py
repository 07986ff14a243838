"""The robots.txt record of a site, built on the crawler's protego layer (no second parser).

What the sitemap side adds to `ingest.crawl.robots.RobotsTxt`: the raw `Sitemap:` values (to
flag relative ones, which RFC 9309 does not allow but Google tolerates), the text that was parsed
(landed, so the warehouse can re-evaluate rules later), warnings a person should read, and fast
verdicts for many URLs: `verdicts(url)` answers for our agent and for Googlebot at once and skips
protego entirely when the file has no rules for an agent, which is the common case for big
sitemaps on permissive sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ingest.crawl.fetch import fetch_url
from ingest.crawl.robots import (
    GOOGLEBOT,
    ROBOTS_MAX_PARSE_BYTES,
    ROBOTS_MAX_READ_BYTES,
    ROBOTS_MAX_REDIRECTS,
    RobotsTxt,
    cut_at_line,
    decode_robots,
    origin_of,
    parse_robots,
    robots_from_fetch,
)
from ingest.http import AddressGuard, RetryPolicy


def _has_rules(rules: RobotsTxt, agent: str) -> bool:
    """Whether any Allow/Disallow group applies to `agent` (False: everything is allowed).

    Protego has no public way to ask this, and asking `can_fetch` for every URL of a big sitemap
    costs more than the rest of the row, so this reads two protego internals:
    `Protego._get_matching_rule_set(agent)` (its own group choice, cached) and the group's
    `_rules` list. Checked against protego 0.7.0 (uv.lock; pyproject only says >=0.4).
    If they change, this answers True, so every URL is asked through the public `can_fetch`:
    slower, never wrong. tests/test_ingest/test_robots_record.py
    (test_the_protego_internals_behind_fast_verdicts_are_still_there) fails loudly instead.
    """
    parser = rules.parser
    if parser is None:
        return False
    try:
        matched = parser._get_matching_rule_set(agent)
    except AttributeError:  # protego internals changed: always ask it (see above)
        return True
    return bool(matched is not None and getattr(matched, "_rules", True))


@dataclass(frozen=True)
class RobotsRecord:
    """robots.txt of one origin: how it was fetched, what it lists, and verdicts for URLs."""

    rules: RobotsTxt
    user_agent: str  # the robots token our crawler obeys (CrawlSettings.robots_user_agent)
    body: str | None = None
    sitemaps_raw: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def origin(self) -> str:
        return self.rules.origin

    @property
    def sitemaps(self) -> tuple[str, ...]:
        """Absolute sitemap URLs listed (relative and protocol-relative ones resolved)."""
        return self.rules.sitemaps

    def can_fetch(self, url: str) -> bool:
        """May our user agent fetch `url`?"""
        return self.rules.can_fetch(url, self.user_agent)

    def googlebot_can_fetch(self, url: str) -> bool:
        return self.rules.can_fetch(url, GOOGLEBOT)

    def verdicts(self) -> Verdicts:
        """A per-URL checker for both agents, with protego skipped where it cannot say no."""
        return Verdicts(self)

    def row(self) -> dict[str, Any]:
        """The robots.parquet row."""
        rules = self.rules
        root = rules.origin + "/"
        return {
            "robots_url": rules.robots_url,
            "status": rules.status,
            "bytes": rules.size_bytes,
            "sitemaps": list(rules.sitemaps),
            "error": rules.error,
            "origin": rules.origin,
            "final_url": rules.final_url,
            "outcome": rules.outcome,
            "is_oversized": rules.oversized,
            "sitemaps_raw": list(self.sitemaps_raw),
            "user_agent": self.user_agent,
            "is_root_allowed": self.can_fetch(root),
            "is_root_allowed_for_googlebot": self.googlebot_can_fetch(root),
            "crawl_delay_s": rules.crawl_delay(self.user_agent),
            "warnings": list(self.warnings),
            "body": self.body,
            "fetched_at": self.fetched_at,
        }


class Verdicts:
    """`blocked(url) -> (blocked for our agent, blocked for Googlebot)` for URLs of one origin."""

    def __init__(self, record: RobotsRecord) -> None:
        rules = record.rules
        self._rules = rules
        self._agent = record.user_agent
        self._all_blocked = rules.disallows_all
        self._check_ours = _has_rules(rules, self._agent)
        self._check_google = _has_rules(rules, GOOGLEBOT)

    @property
    def constant(self) -> tuple[bool, bool] | None:
        """The verdict for every URL of the origin when no rule can tell them apart, else None
        (everything disallowed, or no Allow/Disallow group for either agent)."""
        if self._all_blocked:
            return True, True
        if not self._check_ours and not self._check_google:
            return False, False
        return None

    def blocked(self, url: str) -> tuple[bool, bool]:
        if self._all_blocked:
            return True, True
        ours = self._check_ours and not self._rules.can_fetch(url, self._agent)
        google = self._check_google and not self._rules.can_fetch(url, GOOGLEBOT)
        return ours, google


def _record(
    rules: RobotsTxt, body: bytes | None, user_agent: str, fetched_at: datetime
) -> RobotsRecord:
    text = decode_robots(cut_at_line(body, ROBOTS_MAX_PARSE_BYTES)) if body else None
    raw = tuple(s.strip() for s in rules.parser.sitemaps) if rules.parser is not None else ()
    warnings: list[str] = []
    if rules.oversized:
        warnings.append(
            f"oversized: {rules.size_bytes:,} bytes; Google ignores everything after "
            f"{ROBOTS_MAX_PARSE_BYTES // 1024} KiB"
        )
    relative = [s for s in raw if not urlsplit(s).scheme]
    if relative:
        warnings.append(
            f"relative_sitemap: {len(relative)} Sitemap: lines are not absolute URLs "
            f"(resolved against robots.txt; first: {relative[0]!r})"
        )
    if text is not None and text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        warnings.append("html_body: the robots.txt URL answered with an HTML page")
    if rules.disallows_all:
        warnings.append(
            f"unreachable: {rules.error or 'no answer'}; crawlers must assume everything is "
            "disallowed"
        )
    return RobotsRecord(rules, user_agent, text, raw, tuple(warnings), fetched_at)


def robots_record_from_bytes(
    body: bytes,
    robots_url: str,
    *,
    user_agent: str,
    status: int | None = 200,
    size_bytes: int | None = None,
) -> RobotsRecord:
    """A record from a body already in hand (a file, a test)."""
    rules = parse_robots(body, robots_url, status=status, size_bytes=size_bytes)
    return _record(rules, body, user_agent, datetime.now(UTC))


def missing_robots_record(origin: str, *, user_agent: str, reason: str) -> RobotsRecord:
    """No robots.txt was consulted (local files): everything allowed, the reason kept."""
    rules = RobotsTxt(origin, origin + "/robots.txt", "disabled", error=reason)
    return RobotsRecord(rules, user_agent, None, (), (), datetime.now(UTC))


async def fetch_robots_record(
    client: httpx.AsyncClient,
    origin: str,
    *,
    user_agent: str,
    retry: RetryPolicy,
    guard: AddressGuard | None = None,
) -> RobotsRecord:
    """Fetch `origin`/robots.txt through the shared client and interpret it per RFC 9309."""
    robots_url = origin_of(origin).rstrip("/") + "/robots.txt"
    fetched_at = datetime.now(UTC)
    result = await fetch_url(
        client,
        robots_url,
        max_redirects=ROBOTS_MAX_REDIRECTS,
        max_bytes=ROBOTS_MAX_READ_BYTES,
        retry=retry,
        guard=guard,
        headers={"Accept": "text/plain,*/*;q=0.8"},
    )
    rules = robots_from_fetch(robots_url, result)
    last = result.last
    body = last.body if last is not None and rules.outcome == "parsed" else None
    return _record(rules, body, user_agent, fetched_at)
