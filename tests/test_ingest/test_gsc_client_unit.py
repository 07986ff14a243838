"""The client's requests and parsing, against `HttpMockSequence` (no server, exact bodies)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import RefreshError
from googleapiclient.http import HttpMockSequence

from ingest.config import SiteConfig
from ingest.gsc.auth import GscAuth
from ingest.gsc.budget import RateLimiter
from ingest.gsc.client import RetryPolicy, SearchConsoleClient, build_service
from ingest.gsc.errors import GscPermissionError, GscRequestError
from ingest.gsc.inspection import inspection_row
from ingest.gsc.search_analytics import (
    first_incomplete_date,
    normalize_aggregation_type,
    pull_day,
    rows_to_table,
)
from ingest.gsc.settings import GscSettings
from ingest.urls import normalize_url, url_key

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gsc"
PROPERTY = "https://www.example.com/"
DAY = date(2026, 11, 1)
TODAY = date(2026, 11, 25)


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _client(
    responses: list[tuple[dict[str, str], str]], **settings: Any
) -> tuple[SearchConsoleClient, HttpMockSequence]:
    http = HttpMockSequence(responses)
    gsc = GscSettings(property_url=PROPERTY, **settings)
    service = build_service(GscAuth(AnonymousCredentials(), "anonymous credentials"), http=http)
    sleeps: list[float] = []
    client = SearchConsoleClient(
        service,
        PROPERTY,
        principal="service account sa@p.iam.gserviceaccount.com",
        service_account_email="sa@p.iam.gserviceaccount.com",
        retry=RetryPolicy(retries=2, backoff_base_s=0.5, backoff_max_s=4),
        query_limiter=RateLimiter(1_200),
        inspect_limiter=RateLimiter(600),
        row_limit=gsc.row_limit,
        sleep=sleeps.append,
    )
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client, http


def _body(http: HttpMockSequence, index: int) -> dict[str, Any]:
    return json.loads(http.request_sequence[index][2])


def _ok(payload: dict[str, Any] | str) -> tuple[dict[str, str], str]:
    return ({"status": "200"}, payload if isinstance(payload, str) else json.dumps(payload))


def _rows(n: int, start: int = 0) -> dict[str, Any]:
    return {
        "rows": [
            {"keys": ["2026-11-01", f"{PROPERTY}p{i}", f"q{i}", "MOBILE", "gbr"], "clicks": 1.0,
             "impressions": 2.0, "ctr": 0.5, "position": 3.0}
            for i in range(start, start + n)
        ],
        "responseAggregationType": "byPage",
    }  # fmt: skip


def test_a_day_is_requested_with_lower_case_dimensions_web_final_and_by_page() -> None:
    client, http = _client([_ok(_rows(2)), _ok({"responseAggregationType": "byPage"})], row_limit=2)
    site = SiteConfig(id="shop", start_urls=(PROPERTY,))
    settings = GscSettings(property_url=PROPERTY, row_limit=2)
    result = pull_day(client, site.id, settings, DAY, today=TODAY)
    first, second = _body(http, 0), _body(http, 1)
    assert first == {
        "startDate": "2026-11-01",
        "endDate": "2026-11-01",
        "dimensions": ["date", "page", "query", "device", "country"],
        "type": "web",
        "dataState": "final",
        "aggregationType": "byPage",
        "rowLimit": 2,
        "startRow": 0,
    }
    assert second["startRow"] == 2
    uri, method = http.request_sequence[0][:2]
    assert method == "POST"
    assert "/webmasters/v3/sites/https%3A%2F%2Fwww.example.com%2F/searchAnalytics/query" in uri
    assert result.rows == 2 and result.requests == 2 and not result.is_provisional


def test_paging_continues_past_a_short_page_until_an_empty_one() -> None:
    client, http = _client(
        [_ok(_rows(3)), _ok(_rows(1, 3)), _ok(_rows(3, 4)), _ok({"rows": []})], row_limit=3
    )
    result = client.query_rows({"startDate": "2026-11-01", "endDate": "2026-11-01"})
    assert len(result.rows) == 7
    assert [_body(http, i)["startRow"] for i in range(4)] == [0, 3, 4, 7]


def test_paging_past_the_most_rows_google_serves_for_the_range_is_an_error() -> None:
    pages = [_ok(_rows(2, start)) for start in range(0, 12, 2)]
    client, http = _client(pages, row_limit=2)
    client.max_rows_per_day = 3
    with pytest.raises(GscRequestError) as err:
        client.query_rows(
            {"startDate": "2026-11-01", "endDate": "2026-11-02"}, "searchanalytics.query for X"
        )
    assert "searchanalytics.query for X" in str(err.value) and PROPERTY in str(err.value)
    assert "8 rows and still no empty page" in str(err.value)
    assert len(http.request_sequence) == 4  # two days: at most 6 rows before it gives up


def test_a_response_without_rows_is_an_empty_result_not_an_error() -> None:
    client, _http = _client([_ok({"responseAggregationType": "byProperty"})])
    result = client.query_rows({"startDate": "2026-11-01", "endDate": "2026-11-01"})
    assert result.rows == [] and result.requests == 1


def test_a_recent_day_without_final_data_is_pulled_with_data_state_all_as_provisional() -> None:
    all_answer = _fixture("handwritten__searchanalytics.query__all_with_metadata_camel.json")
    client, http = _client([_ok({}), _ok(all_answer), _ok({})])
    settings = GscSettings(property_url=PROPERTY)
    result = pull_day(client, "shop", settings, date(2026, 11, 23), today=TODAY)
    assert [_body(http, i)["dataState"] for i in range(3)] == ["final", "all", "all"]
    assert result.is_provisional and result.provisional_rows == 1
    assert result.first_incomplete_date == date(2026, 11, 22)
    row = pq.read_table(result.path).to_pylist()[0]
    assert row["device"] == "MOBILE" and row["country"] == "gbr"
    assert row["aggregation_type"] == "byPage"
    assert row["is_provisional"] is True and row["data_state"] == "all"


def test_an_old_day_without_data_is_not_asked_again_with_data_state_all() -> None:
    client, http = _client([_ok({})])
    result = pull_day(client, "shop", GscSettings(property_url=PROPERTY), DAY, today=TODAY)
    assert len(http.request_sequence) == 1
    assert result.rows == 0 and not result.is_provisional
    assert pq.read_table(result.path).num_rows == 0


def test_metadata_is_read_in_both_spellings() -> None:
    assert first_incomplete_date({"first_incomplete_date": "2026-11-22"}) == date(2026, 11, 22)
    assert first_incomplete_date({"firstIncompleteDate": "2026-11-22"}) == date(2026, 11, 22)
    assert first_incomplete_date({}) is None
    assert first_incomplete_date(None) is None


@pytest.mark.parametrize(("wire", "canonical"), [("byPage", "byPage"), ("BY_PAGE", "byPage"),
                                                 ("byProperty", "byProperty"), ("AUTO", "auto")])  # fmt: skip
def test_aggregation_types_fold_across_discovery_and_wire_spellings(
    wire: str, canonical: str
) -> None:
    assert normalize_aggregation_type(wire) == canonical


def test_rows_keep_unicode_queries_and_land_counts_as_integers_and_pages_normalized() -> None:
    answer = json.loads(
        _fixture("handwritten__searchanalytics.query__page1_query_page_unicode.json")
    )
    table = rows_to_table(answer["rows"], ["QUERY", "Page"], day=DAY, common={"site_id": "shop"})
    rows = table.to_pylist()
    assert [r["query"] for r in rows] == ["robotic crowd", "ロボティッククラウド", "café crème"]
    assert rows[0]["clicks"] == 109 and rows[0]["impressions"] == 181
    assert rows[0]["ctr"] == pytest.approx(0.6022099447513812)
    assert rows[0]["position"] == pytest.approx(1.0055248618784531)
    assert rows[2]["page"] == "HTTPS://RoboticCrowd.com:443/blog/?utm_source=x"
    assert rows[2]["page_url"] == "https://roboticcrowd.com/blog/"
    assert rows[2]["url_key"] == url_key(normalize_url("https://roboticcrowd.com/blog/"))
    assert all(r["date"] == DAY for r in rows)


def test_a_429_is_retried_after_the_retry_after_it_names() -> None:
    client, _http = _client(
        [({"status": "429", "retry-after": "1.5"}, json.dumps({"error": {"code": 429, "message": "quota"}})),
         _ok(_rows(1)), _ok({})]
    )  # fmt: skip
    result = client.query_rows({"startDate": "2026-11-01", "endDate": "2026-11-01"})
    assert len(result.rows) == 1
    assert client.sleeps == [1.5]  # type: ignore[attr-defined]


class _CountingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(1_200)
        self.acquired = 0

    def acquire(self) -> float:
        self.acquired += 1
        return super().acquire()


def test_every_attempt_including_retries_takes_a_slot_of_the_property_budget() -> None:
    error = json.dumps({"error": {"code": 503, "message": "unavailable"}})
    client, http = _client(
        [({"status": "429"}, error), ({"status": "503"}, error), _ok(_rows(1)),
         ({"status": "500"}, error), _ok({})]
    )  # fmt: skip
    limiter = client.query_limiter = _CountingLimiter()
    result = client.query_rows({"startDate": "2026-11-01", "endDate": "2026-11-01"})
    assert len(result.rows) == 1 and len(http.request_sequence) == 5
    assert limiter.acquired == client.requests == 5  # 3 retried attempts + 2 that succeeded
    assert client.retried == 3


def test_a_refused_attempt_takes_its_slot_too_and_is_not_retried() -> None:
    client, _http = _client([({"status": "400"}, json.dumps({"error": {"code": 400}}))])
    limiter = client.inspect_limiter = _CountingLimiter()
    with pytest.raises(GscRequestError):
        client.inspect("https://www.example.com/a")
    assert limiter.acquired == 1


def test_a_403_whose_reason_is_a_rate_limit_is_retried_not_reported_as_permission() -> None:
    quota = {"error": {"code": 403, "message": "Rate Limit Exceeded",
                       "errors": [{"reason": "rateLimitExceeded", "domain": "usageLimits"}]}}  # fmt: skip
    client, _http = _client([({"status": "403"}, json.dumps(quota)), _ok(_rows(1)), _ok({})])
    result = client.query_rows({"startDate": "2026-11-01", "endDate": "2026-11-01"})
    assert len(result.rows) == 1


def test_backoff_grows_and_stays_under_its_cap() -> None:
    policy = RetryPolicy(retries=8, backoff_base_s=1.0, backoff_max_s=10.0)
    delays = [policy.delay(attempt) for attempt in range(8)]
    assert all(0.5 <= d <= 10.0 for d in delays)
    assert delays[0] <= 1.0 and min(delays[5:]) >= 5.0


def test_a_400_is_not_retried_and_names_the_property() -> None:
    bad = {"error": {"code": 400, "message": "Invalid value at 'dimensions'"}}
    client, http = _client([({"status": "400"}, json.dumps(bad))])
    with pytest.raises(GscRequestError, match="https://www.example.com/ was refused .*HTTP 400"):
        client.query_rows({"startDate": "2026-11-01", "endDate": "2026-11-01"})
    assert len(http.request_sequence) == 1


def test_a_401_says_the_credentials_were_rejected() -> None:
    client, _http = _client(
        [({"status": "401"}, json.dumps({"error": {"message": "Invalid Credentials"}}))]
    )
    with pytest.raises(GscPermissionError, match="rejected the credentials"):
        client.inspect("https://www.example.com/a")


def test_the_inspection_request_body_carries_url_property_and_language() -> None:
    response = _fixture(
        "google-search-central-blog-2022-01__urlInspection.index.inspect__response.json"
    )
    client, http = _client([_ok(response)])
    result = client.inspect("https://www.example.com/a", "de-DE")
    assert _body(http, 0) == {
        "inspectionUrl": "https://www.example.com/a",
        "siteUrl": PROPERTY,
        "languageCode": "de-DE",
    }
    assert http.request_sequence[0][0].split("?")[0].endswith("/v1/urlInspection/index:inspect")
    assert result["indexStatusResult"]["verdict"] == "PASS"


def test_a_real_inspection_response_becomes_a_row_with_absent_fields_null() -> None:
    result = json.loads(
        _fixture("google-search-central-blog-2022-01__urlInspection.index.inspect__response.json")
    )["inspectionResult"]
    row = inspection_row(result, common={"site_id": "dev"})
    canonical = "https://developers.google.com/search/help/site-appearance-faq"
    assert row["verdict"] == "PASS"
    assert row["coverage_state"] == "Indexed, not submitted in sitemap"
    assert row["indexing_state"] == "INDEXING_ALLOWED"
    assert row["page_fetch_state"] == "SUCCESSFUL"
    assert row["robots_txt_state"] == "ALLOWED"
    assert row["crawled_as"] == "MOBILE"
    assert row["last_crawl_time"].isoformat() == "2022-01-31T08:39:51+00:00"
    assert row["google_canonical"] == row["user_canonical"] == canonical
    assert row["google_canonical_key"] == row["user_canonical_key"] == url_key(canonical)
    assert row["sitemaps"] is None  # absent in the response, not an empty list
    assert row["referring_urls"] == [
        "https://developers.google.com/search/updates",
        "https://developers.google.com/search/help/crawling-index-faq",
    ]
    assert row["mobile_usability_verdict"] == "PASS"
    assert row["rich_results_verdict"] == "PASS"


def test_a_not_indexed_inspection_keeps_canonicals_and_sitemaps_null() -> None:
    # Re-typed from a live response quoted in formats.md (not-indexed page).
    result = {
        "inspectionResultLink": "https://search.google.com/search-console/inspect?x&utm_medium=link&utm_source=api",
        "indexStatusResult": {
            "verdict": "NEUTRAL",
            "coverageState": "Crawled - currently not indexed",
            "indexingState": "INDEXING_STATE_UNSPECIFIED",
            "pageFetchState": "SUCCESSFUL",
            "crawledAs": "MOBILE",
            "lastCrawlTime": "2026-10-03T00:50:18Z",
            "referringUrls": ["https://indexmetrix.com/"],
        },
    }
    row = inspection_row(result, common={})
    assert row["verdict"] == "NEUTRAL"
    assert row["google_canonical"] is None and row["user_canonical"] is None
    assert row["sitemaps"] is None and row["mobile_usability_verdict"] is None


class _RevokedCredentials(Credentials):
    """Credentials whose token exchange Google refuses (a revoked or deleted key)."""

    def refresh(self, request: object) -> None:
        raise RefreshError("invalid_grant: Invalid JWT Signature.", {"error": "invalid_grant"})


def test_a_refused_token_exchange_is_a_permission_error_naming_the_account() -> None:
    from google_auth_httplib2 import AuthorizedHttp

    http = AuthorizedHttp(_RevokedCredentials(), http=HttpMockSequence([_ok({})]))
    auth = GscAuth(AnonymousCredentials(), "service account sa@p.iam.gserviceaccount.com")
    client = SearchConsoleClient(build_service(auth, http=http), PROPERTY, principal=auth.principal)
    with pytest.raises(
        GscPermissionError, match="refused to issue an access token for service account sa@p"
    ):
        client.query_rows({"startDate": "2026-11-01", "endDate": "2026-11-01"})


def test_a_url_prefix_property_is_matched_under_the_site_policy_at_its_path_boundary() -> None:
    from ingest.gsc.inspection import url_in_property
    from ingest.urls import UrlPolicy

    strip = UrlPolicy(trailing_slash="strip")
    prop = "https://WWW.Example.com:443/blog/"

    def inside(url: str) -> bool:
        return url_in_property(normalize_url(url, policy=strip), prop, strip)

    assert inside("https://www.example.com/blog/post/")  # sent as .../blog/post
    assert not inside("https://www.example.com/blogger/")  # the slash is the boundary
    assert not inside("https://www.example.com/blog/")  # sent as .../blog: Google would refuse
    assert not inside("http://www.example.com/blog/post/")  # another scheme, another property
    assert url_in_property("https://a.example.com/x", "sc-domain:example.com", strip)
