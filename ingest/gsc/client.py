"""The Search Console API client: google-api-python-client with our retries, budgets and errors.

Why not the library's own `execute(num_retries=...)`: its backoff sleeps whole seconds with no
cap we control (tests would take minutes), it ignores `Retry-After`, and it cannot tell the user
which property and account a 403 was about. So every call goes through `_execute`: one attempt at
a time, a per-property rate limiter before each attempt, backoff on 429/5xx (and on 403s whose
reason is a rate limit), and errors that name the property and the service account.

The service is built from the discovery document shipped inside the package
(`static_discovery=True`): no network round trip, and it works offline.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ingest.gsc.auth import GscAuth, load_auth
from ingest.gsc.budget import RateLimiter, limiter_for
from ingest.gsc.errors import GscPermissionError, GscRequestError
from ingest.gsc.settings import GscSettings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Google documents at most 50,000 rows per day and search type; paging is declared broken only
# past twice that per day of the range (a margin should Google raise the limit unannounced).
DOCUMENTED_MAX_ROWS_PER_DAY = 50_000
MAX_ROWS_PER_DAY = 2 * DOCUMENTED_MAX_ROWS_PER_DAY
# 403s that are really quota answers (Google's `errors[].reason`): retried like a 429.
RATE_LIMIT_REASONS = frozenset(
    {"ratelimitexceeded", "userratelimitexceeded", "quotaexceeded", "dailylimitexceeded"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; `Retry-After` wins when the server sends it."""

    retries: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 64.0

    @classmethod
    def from_settings(cls, settings: GscSettings) -> RetryPolicy:
        return cls(settings.retries, settings.backoff_base_s, settings.backoff_max_s)

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, self.backoff_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class QueryResult:
    """Every row of one searchanalytics query (all pages), as the API sent them."""

    rows: list[dict[str, Any]]
    metadata: dict[str, Any] = field(default_factory=dict)
    aggregation_type: str | None = None
    requests: int = 0


def build_service(auth: GscAuth, timeout_s: float = 60.0, http: Any = None) -> Any:
    """The `searchconsole v1` service from the bundled discovery document (no network)."""
    if http is None:
        from google_auth_httplib2 import AuthorizedHttp

        http = AuthorizedHttp(auth.credentials, http=httplib2.Http(timeout=timeout_s))
    options = {"api_endpoint": auth.api_endpoint} if auth.api_endpoint else None
    return build(
        "searchconsole",
        "v1",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
    )


class SearchConsoleClient:
    """One property's view of the API: paged search analytics and URL inspection."""

    def __init__(
        self,
        service: Any,
        property_url: str,
        *,
        principal: str = "the configured account",
        service_account_email: str | None = None,
        retry: RetryPolicy | None = None,
        query_limiter: RateLimiter | None = None,
        inspect_limiter: RateLimiter | None = None,
        row_limit: int = 25_000,
        max_rows_per_day: int = MAX_ROWS_PER_DAY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self.property_url = property_url
        self.principal = principal
        self.service_account_email = service_account_email
        self.retry = retry or RetryPolicy()
        self.query_limiter = query_limiter or RateLimiter(1_200)
        self.inspect_limiter = inspect_limiter or RateLimiter(600)
        self.row_limit = row_limit
        self.max_rows_per_day = max_rows_per_day
        self._sleep = sleep
        self.requests = 0
        self.retried = 0

    @classmethod
    def from_settings(
        cls,
        settings: GscSettings,
        env: Mapping[str, str] | None = None,
        *,
        http: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> SearchConsoleClient:
        """Client for the settings' property, credentials resolved from `env`."""
        auth = load_auth(settings, env)
        return cls(
            build_service(auth, settings.timeout_s, http=http),
            settings.property_url,
            principal=auth.principal,
            service_account_email=auth.service_account_email,
            retry=RetryPolicy.from_settings(settings),
            query_limiter=limiter_for(settings.property_url, "query", settings.requests_per_minute),
            inspect_limiter=limiter_for(
                settings.property_url, "inspect", settings.inspections_per_minute
            ),
            row_limit=settings.row_limit,
            sleep=sleep,
        )

    # -- search analytics ---------------------------------------------------------------------

    def query_rows(
        self, body: Mapping[str, Any], what: str = "searchanalytics.query"
    ) -> QueryResult:
        """All rows of a query: `rowLimit` per page, `startRow` advanced until an empty page.

        The API signals the end with a response whose `rows` field is absent (not `[]`), and
        does not promise that a short page is the last one, so only an empty page stops. A
        server that ignores `startRow` would never send one: a page identical to the previous
        one, or more rows than Google ever serves for the range, raises instead of looping.
        """
        rows: list[dict[str, Any]] = []
        metadata: dict[str, Any] = {}
        aggregation: str | None = None
        requests = 0
        start = 0
        max_rows = self.max_rows_per_day * _days_in(body)
        previous: list[dict[str, Any]] | None = None
        resource = self.service.searchanalytics()
        while True:
            page_body = {**body, "rowLimit": self.row_limit, "startRow": start}
            page = self._execute(
                lambda b=page_body: resource.query(siteUrl=self.property_url, body=b),
                what,
                self.query_limiter,
            )
            requests += 1
            metadata = metadata or dict(page.get("metadata") or {})
            aggregation = aggregation or page.get("responseAggregationType")
            page_rows = page.get("rows") or []
            if not page_rows:
                return QueryResult(rows, metadata, aggregation, requests)
            if page_rows == previous:
                raise self._paging_error(what, f"the page at startRow {start} repeats the last one")
            rows.extend(page_rows)
            if len(rows) > max_rows:
                raise self._paging_error(
                    what, f"{len(rows)} rows and still no empty page (Google serves at most "
                    f"{DOCUMENTED_MAX_ROWS_PER_DAY:,} per day)",
                )  # fmt: skip
            previous = page_rows
            start += len(page_rows)

    def _paging_error(self, what: str, problem: str) -> GscRequestError:
        return GscRequestError(
            f"{what} for property {self.property_url}: paging does not end ({problem}); the "
            "server (or a proxy in front of it) seems to ignore startRow, so nothing was landed"
        )

    # -- URL inspection -------------------------------------------------------------------------

    def inspect(self, url: str, language_code: str = "en-US") -> dict[str, Any]:
        """`urlInspection.index.inspect` for one URL: the `inspectionResult` object."""
        body = {"inspectionUrl": url, "siteUrl": self.property_url, "languageCode": language_code}
        resource = self.service.urlInspection().index()
        response = self._execute(
            lambda: resource.inspect(body=body), f"URL inspection of {url}", self.inspect_limiter
        )
        return dict(response.get("inspectionResult") or {})

    # -- one call, retried ----------------------------------------------------------------------

    def _execute(
        self, make_request: Callable[[], Any], what: str, limiter: RateLimiter
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            limiter.acquire()
            self.requests += 1
            try:
                return make_request().execute(num_retries=0)
            except HttpError as exc:
                status, reason = exc.status_code, exc.reason
                retryable = status in RETRY_STATUSES or _is_rate_limit_403(exc)
                if status in (401, 403) and not retryable:
                    raise self._permission_error(status, reason, what) from None
                if not retryable or attempt >= self.retry.retries:
                    raise self._request_error(
                        what, attempt + 1, status, reason, retryable
                    ) from None
                delay = self.retry.delay(attempt, _retry_after(exc))
                problem = f"HTTP {status}"
            except RefreshError as exc:
                # The token exchange itself was refused (revoked key, deleted account, bad clock).
                detail = str(exc.args[0]) if exc.args else type(exc).__name__
                raise GscPermissionError(
                    f"Google refused to issue an access token for {self.principal} "
                    f"(property {self.property_url}, {what}): {detail}; check that the key or "
                    "OAuth credentials are current and the account still exists"
                ) from None
            except (OSError, httplib2.HttpLib2Error, TransportError) as exc:
                # Connection refused/reset, timeouts: transient until the retries say otherwise.
                if attempt >= self.retry.retries:
                    raise self._request_error(
                        what, attempt + 1, None, f"{type(exc).__name__}: {exc}", True
                    ) from None
                delay = self.retry.delay(attempt)
                problem = type(exc).__name__
            log.warning(
                "%s for %s: %s, retry %d/%d in %.2fs",
                what,
                self.property_url,
                problem,
                attempt + 1,
                self.retry.retries,
                delay,
            )
            self.retried += 1
            self._sleep(delay)
            attempt += 1

    def _permission_error(self, status: int, reason: str, what: str) -> GscPermissionError:
        who = self.principal
        if self.service_account_email:
            fix = (
                f"add {self.service_account_email} as a user of {self.property_url} in Search "
                "Console (Settings > Users and permissions > Add user)"
            )
        else:
            fix = f"give {who} access to {self.property_url} in Search Console"
        verb = "rejected the credentials of" if status == 401 else "refused access to"
        return GscPermissionError(
            f"Search Console {verb} {who} for property {self.property_url} ({what}: HTTP {status}: "
            f"{reason or 'no reason given'}); {fix}, and check that the property is spelled "
            "exactly as in Search Console (sc-domain:example.com or https://www.example.com/)"
        )

    def _request_error(
        self, what: str, attempts: int, status: int | None, reason: str, retryable: bool
    ) -> GscRequestError:
        problem = f"HTTP {status}: {reason}" if status is not None else reason
        if retryable:
            message = f"{what} for property {self.property_url} failed after {attempts} attempts ({problem})"
            if status == 429 or (status == 403 and retryable):
                message += (
                    "; Search Console's quota for this property is used up for now (load quota "
                    "resets after about 15 minutes): run again later or lower requests_per_minute"
                )
        else:
            message = f"{what} for property {self.property_url} was refused ({problem})"
        return GscRequestError(message, status=status, exhausted=retryable)


def _days_in(body: Mapping[str, Any]) -> int:
    """Days covered by a query body (1 when its dates are missing or unreadable)."""
    try:
        start = date.fromisoformat(str(body["startDate"])[:10])
        end = date.fromisoformat(str(body["endDate"])[:10])
    except (KeyError, ValueError):
        return 1
    return max(1, (end - start).days + 1)


def _retry_after(exc: HttpError) -> float | None:
    value = exc.resp.get("retry-after") if exc.resp is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _is_rate_limit_403(exc: HttpError) -> bool:
    if exc.status_code != 403:
        return False
    try:
        error = json.loads(exc.content.decode("utf-8")).get("error", {})
    except (ValueError, AttributeError):
        return False
    reasons = [
        str(e.get("reason", "")).lower() for e in error.get("errors") or [] if isinstance(e, dict)
    ]
    return any(r in RATE_LIMIT_REASONS for r in reasons)
