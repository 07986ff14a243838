"""URL Inspection for a list of URLs, within a persisted per-property daily budget.

Why a budget of our own: Google allows 2,000 inspections per property per day and answers the
2,001st with an error, so a run that blindly loops wastes the day's calls of every other job.
Each URL spends one unit of the SQLite ledger *before* its request, so concurrent runs (the
verification of a published batch, an ad-hoc CLI call) share the day without overspending it.

Nothing is dropped silently: a URL that is invalid or outside the property lands as a row with
its `error` (no quota spent), and URLs left over when the budget runs out are returned in
`skipped_for_budget` for the caller to report or schedule tomorrow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest.config import SiteConfig
from ingest.gsc.budget import InspectionBudget, default_budget_path
from ingest.gsc.client import SearchConsoleClient
from ingest.gsc.errors import GscError, GscRequestError
from ingest.gsc.landing import land_url_inspection_run
from ingest.gsc.schema import URL_INSPECTION_SCHEMA
from ingest.gsc.settings import GscSettings, site_gsc_settings
from ingest.landing import table_from_rows
from ingest.paths import new_run_id
from ingest.urls import DEFAULT_POLICY, InvalidURL, UrlPolicy, normalize_url, url_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InspectionRun:
    """The rows of one inspection run, where they landed, and what was left undone."""

    site_id: str
    property_url: str
    rows: list[dict[str, Any]]
    path: Path | None
    skipped_for_budget: tuple[str, ...] = ()
    budget_remaining: int = 0
    failure: str | None = None
    """Set when the run stopped early (permission, retries exhausted); rows so far still land."""
    by_verdict: dict[str, int] = field(default_factory=dict)
    not_inspected_after_failure: tuple[str, ...] = ()
    """URLs left (the failing one included) when the run stopped on `failure`."""

    @property
    def is_partial(self) -> bool:
        """Landed, but stopped before every URL was asked (failure or budget)."""
        return bool(self.failure or self.skipped_for_budget)

    @property
    def inspected(self) -> int:
        return sum(1 for row in self.rows if row["error"] is None)

    @property
    def errors(self) -> int:
        return sum(1 for row in self.rows if row["error"] is not None)

    @property
    def with_warnings(self) -> int:
        """Results landed with a problem (e.g. an unreadable `lastCrawlTime`)."""
        return sum(1 for row in self.rows if row.get("warnings"))

    @property
    def canonical_mismatches(self) -> int:
        """URLs whose declared canonical Google did not pick."""
        return sum(
            1
            for row in self.rows
            if row["google_canonical_key"]
            and row["user_canonical_key"]
            and row["google_canonical_key"] != row["user_canonical_key"]
        )


def url_in_property(url: str, property_url: str, policy: UrlPolicy = DEFAULT_POLICY) -> bool:
    """Is `url` (normalized with `policy`) covered by the property? Google refuses others with
    a 403, which stops the run, so this must agree with Google.

    The URL-prefix property is normalized with the same policy as the URL, so both sides agree on
    host case, ports and encoding; the property's trailing slash is kept as the path boundary
    (a `strip` policy must not make `/blog/` cover `/blogger`), as Google's prefix match does.
    """
    if property_url.startswith("sc-domain:"):
        domain = property_url[len("sc-domain:") :].lower().rstrip(".")
        host = (urlsplit(url).hostname or "").lower()
        return host == domain or host.endswith("." + domain)
    try:
        prefix = normalize_url(property_url, policy=policy)
    except InvalidURL:
        prefix = property_url
    if property_url.endswith("/") and not prefix.endswith("/"):
        prefix += "/"
    return url.startswith(prefix)


def _normalized(url: str, policy: UrlPolicy) -> tuple[str | None, str | None]:
    try:
        value = normalize_url(url, policy=policy)
    except InvalidURL:
        return None, None
    return value, url_key(value)


def _enum(value: Any) -> str | None:
    return str(value).upper() if value else None


def _timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as UTC; ValueError when it is not one."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _crawl_time(value: Any) -> tuple[datetime | None, list[str]]:
    """`lastCrawlTime` parsed, or null with a warning: a malformed value must not cost the run
    (every inspection before it already spent quota), and its raw text lands beside it."""
    try:
        return _timestamp(value), []
    except (ValueError, TypeError, OverflowError):
        return None, [f"invalid_last_crawl_time: lastCrawlTime {str(value)!r} is not a timestamp"]


def inspection_row(
    result: Mapping[str, Any],
    *,
    common: Mapping[str, Any],
    policy: UrlPolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """One landing row from an `inspectionResult`; absent fields (never crawled, no canonical,
    no sitemap) stay null rather than empty strings, which is what they mean."""
    status = result.get("indexStatusResult") or {}
    google_canonical = status.get("googleCanonical")
    user_canonical = status.get("userCanonical")
    raw_crawl_time = status.get("lastCrawlTime")
    crawl_time, warnings = _crawl_time(raw_crawl_time)
    return {
        **common,
        "verdict": _enum(status.get("verdict")),
        "coverage_state": status.get("coverageState"),
        "indexing_state": _enum(status.get("indexingState")),
        "page_fetch_state": _enum(status.get("pageFetchState")),
        "robots_txt_state": _enum(status.get("robotsTxtState")),
        "crawled_as": _enum(status.get("crawledAs")),
        "last_crawl_time": crawl_time,
        "last_crawl_time_raw": str(raw_crawl_time) if raw_crawl_time else None,
        "google_canonical": google_canonical,
        "google_canonical_key": _normalized(google_canonical, policy)[1]
        if google_canonical
        else None,
        "user_canonical": user_canonical,
        "user_canonical_key": _normalized(user_canonical, policy)[1] if user_canonical else None,
        "sitemaps": list(status.get("sitemap") or []) or None,
        "referring_urls": list(status.get("referringUrls") or []) or None,
        "mobile_usability_verdict": _enum(
            (result.get("mobileUsabilityResult") or {}).get("verdict")
        ),
        "rich_results_verdict": _enum((result.get("richResultsResult") or {}).get("verdict")),
        "inspection_result_link": result.get("inspectionResultLink"),
        "error": None,
        "warnings": warnings or None,
    }


def inspect_urls(
    site: SiteConfig,
    urls: Iterable[str],
    *,
    gsc: GscSettings | None = None,
    base: Path | None = None,
    env: Mapping[str, str] | None = None,
    client: SearchConsoleClient | None = None,
    budget: InspectionBudget | None = None,
    now: datetime | None = None,
) -> InspectionRun:
    """Inspect `urls` (deduplicated, in order) and land one file for the run.

    Stops at the first permission error or exhausted retries, but what was inspected before it
    still lands (each result cost quota); the failure is reported in `InspectionRun.failure`.
    """
    gsc = gsc or site_gsc_settings(site)
    policy = site.url_policy
    budget = budget or InspectionBudget(default_budget_path(base), gsc.inspection_daily_budget)
    started = now or datetime.now(UTC)
    base_common = {
        "site_id": site.id,
        "property_url": gsc.property_url,
        "language_code": gsc.language_code,
    }
    rows: list[dict[str, Any]] = []
    todo: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for raw in urls:
        raw = raw.strip()
        normalized, key = _normalized(raw, policy)
        common = {**base_common, "inspection_url": raw, "url": normalized, "url_key": key}
        if normalized is None:
            rows.append(_error_row(common, started, "not an absolute http(s) URL"))
        elif normalized in seen:
            continue
        elif not url_in_property(normalized, gsc.property_url, policy):
            rows.append(_error_row(common, started, f"not part of property {gsc.property_url}"))
        else:
            todo.append((raw, normalized, key or ""))
        if normalized:
            seen.add(normalized)

    skipped: list[str] = []
    failure: str | None = None
    stopped_before: list[str] = []
    if todo:
        client = client or SearchConsoleClient.from_settings(gsc, env)
    for index, (raw, normalized, key) in enumerate(todo):
        common = {**base_common, "inspection_url": raw, "url": normalized, "url_key": key}
        if not budget.try_consume(gsc.property_url):
            skipped = [u for _r, u, _k in todo[index:]]
            log.warning(
                "gsc %s: daily inspection budget of %d for %s used up; %d URLs not inspected",
                site.id,
                budget.daily_limit,
                gsc.property_url,
                len(skipped),
            )
            break
        inspected_at = datetime.now(UTC) if now is None else now
        try:
            assert client is not None
            result = client.inspect(normalized, gsc.language_code)
        except GscRequestError as exc:
            if exc.exhausted:
                failure, stopped_before = str(exc), [u for _r, u, _k in todo[index:]]
                break
            rows.append(_error_row(common, inspected_at, str(exc)))  # e.g. 400 for this URL
            continue
        except GscError as exc:
            failure, stopped_before = str(exc), [u for _r, u, _k in todo[index:]]
            break
        row = inspection_row(result, common=common, policy=policy)
        row["inspected_at"] = inspected_at
        for warning in row["warnings"] or ():
            log.warning("gsc %s: inspection of %s: %s", site.id, normalized, warning)
        rows.append(row)

    path = None
    if rows:
        table = table_from_rows(rows, URL_INSPECTION_SCHEMA)
        path = land_url_inspection_run(table, site.id, new_run_id(started), base)
    verdicts: dict[str, int] = {}
    for row in rows:
        label = row["verdict"] or ("ERROR" if row["error"] else "NONE")
        verdicts[label] = verdicts.get(label, 0) + 1
    return InspectionRun(
        site_id=site.id,
        property_url=gsc.property_url,
        rows=rows,
        path=path,
        skipped_for_budget=tuple(skipped),
        budget_remaining=budget.remaining(gsc.property_url),
        failure=failure,
        by_verdict=verdicts,
        not_inspected_after_failure=tuple(stopped_before),
    )


def _error_row(common: Mapping[str, Any], at: datetime, error: str) -> dict[str, Any]:
    empty = dict.fromkeys(URL_INSPECTION_SCHEMA.names)
    return {**empty, **common, "inspected_at": at, "error": error}


def urls_from_latest_crawl(
    site_id: str, base: Path | None = None, limit: int | None = None
) -> list[str]:
    """Indexable HTML URLs of the site's latest finished crawl: what inspection should verify."""
    import pyarrow.parquet as pq

    from ingest.paths import latest_finished_run

    run = latest_finished_run(site_id, base)
    if run is None or not (run / "pages.parquet").exists():
        return []
    table = pq.read_table(run / "pages.parquet", columns=["url", "is_indexable"])
    urls = [
        url
        for url, indexable in zip(
            table["url"].to_pylist(), table["is_indexable"].to_pylist(), strict=True
        )
        if url and indexable
    ]
    return urls[:limit] if limit is not None else urls


def summarize(run: InspectionRun) -> Sequence[str]:
    """Plain-text lines for the CLI and logs."""
    lines = [
        f"inspected {run.inspected} URLs of {run.property_url}"
        f" ({run.errors} errors, {run.canonical_mismatches} with a Google-chosen canonical)",
        "  verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(run.by_verdict.items())),
        f"  budget left today: {run.budget_remaining}",
    ]
    if run.skipped_for_budget:
        lines.append(
            f"  not inspected (daily budget used up): {len(run.skipped_for_budget)} URLs,"
            f" first {run.skipped_for_budget[0]}"
        )
    if run.failure:
        lines.append(
            f"  stopped early, {len(run.not_inspected_after_failure)} URLs not inspected:"
            f" {run.failure}"
        )
    if run.path:
        lines.append(f"  landed: {run.path}" + (" (partial)" if run.is_partial else ""))
    return lines
