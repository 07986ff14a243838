"""The real client (google-api-python-client + httplib2) against the fake Search Console API."""

from __future__ import annotations

import base64
import itertools
import json
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from demo.gsc_data import SearchModel
from demo.gsc_server import FakeSearchConsole
from ingest.config import SiteConfig
from ingest.gsc.budget import InspectionBudget
from ingest.gsc.client import SearchConsoleClient
from ingest.gsc.errors import GscPermissionError, GscRequestError
from ingest.gsc.inspection import inspect_urls
from ingest.gsc.landing import landed_days, search_analytics_path
from ingest.gsc.search_analytics import pull_days
from ingest.gsc.settings import GscSettings

TODAY = date(2026, 11, 25)
FINAL_UNTIL = TODAY - timedelta(days=3)  # first day without final data
OLD_DAY = date(2026, 11, 2)
SA_EMAIL = "linkwarehouse@demo-project.iam.gserviceaccount.com"
_SHOPS = itertools.count()


@pytest.fixture(scope="module")
def shop_model() -> SearchModel:
    """One demo-shop model for the module: servers share it, so each day is computed once."""
    return SearchModel("http://shop.test")


@pytest.fixture
def fake(shop_model: SearchModel) -> Iterator[FakeSearchConsole]:
    with FakeSearchConsole(
        today=TODAY, first_incomplete_date=FINAL_UNTIL, model=shop_model
    ) as server:
        yield server


def _gsc(fake: FakeSearchConsole, **kw: object) -> GscSettings:
    return GscSettings(
        property_url=fake.property_url, retries=3, backoff_base_s=0.001, backoff_max_s=0.005, **kw
    )  # type: ignore[arg-type]


def _site(fake: FakeSearchConsole) -> SiteConfig:
    return SiteConfig(id="shop", start_urls=(fake.property_url,))


def _env(fake: FakeSearchConsole, **extra: str) -> dict[str, str]:
    return {"GSC_API_ENDPOINT": fake.endpoint, **extra}


def _pull(fake: FakeSearchConsole, day: date, **kw: object):
    gsc = kw.pop("gsc", None) or _gsc(fake)
    return pull_days(_site(fake), day, day, gsc=gsc, env=_env(fake), today=TODAY, **kw)[0]


def test_60001_rows_of_one_day_land_exactly_across_page_boundaries(fake: FakeSearchConsole) -> None:
    fake.set_synthetic_rows(OLD_DAY, 60_001)
    result = _pull(fake, OLD_DAY)
    assert result.rows == 60_001
    assert [r.body["startRow"] for r in fake.requests] == [0, 25_000, 50_000, 60_001]
    assert all(r.body["rowLimit"] == 25_000 for r in fake.requests)
    table = pq.read_table(result.path)
    assert table.num_rows == 60_001
    assert len(pc.unique(table["query"])) == 60_001  # no row twice, none missing


def test_a_429_is_retried_and_the_day_lands_as_if_nothing_happened(fake: FakeSearchConsole) -> None:
    clean = _pull(fake, OLD_DAY)
    fake.inject(429, times=1, method="query")
    retried = _pull(fake, OLD_DAY)
    assert [r.status for r in fake.requests[-3:]] == [429, 200, 200]
    assert (retried.rows, retried.clicks, retried.impressions) == (
        clean.rows,
        clean.clicks,
        clean.impressions,
    )


def test_a_500_storm_exhausts_the_retries_and_lands_nothing(fake: FakeSearchConsole) -> None:
    fake.inject(500, times=-1, method="query")
    with pytest.raises(GscRequestError) as err:
        _pull(fake, OLD_DAY)
    message = str(err.value)
    assert "failed after 4 attempts" in message and "HTTP 500" in message
    assert fake.property_url in message and str(OLD_DAY) in message
    assert len(fake.requests) == 4
    assert not search_analytics_path("shop", OLD_DAY).exists()
    assert not list(search_analytics_path("shop", OLD_DAY).parent.parent.rglob("*.parquet"))


def test_a_failure_on_a_later_page_keeps_the_earlier_pull_of_the_day(
    fake: FakeSearchConsole,
) -> None:
    fake.set_synthetic_rows(OLD_DAY, 1_500)
    small_pages = _gsc(fake, row_limit=1_000)
    first = _pull(fake, OLD_DAY, gsc=small_pages)
    before = first.path.read_bytes()
    fake.inject(500, times=-1, method="query", after=1)  # page 1 arrives, page 2 never does
    with pytest.raises(GscRequestError):
        _pull(fake, OLD_DAY, gsc=small_pages)
    assert first.path.read_bytes() == before
    assert not [p for p in first.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_server_ignoring_start_row_stops_with_a_clear_error_instead_of_looping(
    fake: FakeSearchConsole,
) -> None:
    fake.set_synthetic_rows(OLD_DAY, 30)
    fake.ignore_start_row()
    with pytest.raises(GscRequestError) as err:
        _pull(fake, OLD_DAY, gsc=_gsc(fake, row_limit=10))
    message = str(err.value)
    assert fake.property_url in message and str(OLD_DAY) in message
    assert "repeats the last one" in message and "ignore startRow" in message
    assert [r.body["startRow"] for r in fake.requests] == [0, 10]
    assert landed_days("shop") == []


def test_a_403_names_the_property_and_the_service_account_and_is_not_retried(
    fake: FakeSearchConsole,
) -> None:
    fake.deny()
    key = {"type": "service_account", "client_email": SA_EMAIL}
    env = _env(fake, GSC_CREDENTIALS_B64=base64.b64encode(json.dumps(key).encode()).decode())
    with pytest.raises(GscPermissionError) as err:
        pull_days(_site(fake), OLD_DAY, OLD_DAY, gsc=_gsc(fake), env=env, today=TODAY)
    message = str(err.value)
    assert fake.property_url in message
    assert f"add {SA_EMAIL} as a user of {fake.property_url}" in message
    assert "User does not have sufficient permission" in message
    assert len(fake.requests) == 1
    assert landed_days("shop") == []


def test_a_day_without_data_answers_without_rows_and_lands_an_empty_day(
    fake: FakeSearchConsole,
) -> None:
    empty_day = TODAY - timedelta(days=600)  # older than Search Console keeps
    body = json.dumps({"startDate": str(empty_day), "endDate": str(empty_day)}).encode()
    site = urllib.request.quote(fake.property_url, safe="")
    request = urllib.request.Request(
        f"{fake.endpoint}/webmasters/v3/sites/{site}/searchAnalytics/query", data=body
    )
    with urllib.request.urlopen(request) as response:
        assert "rows" not in json.loads(response.read())  # absent, not []
    result = _pull(fake, empty_day)
    assert result.rows == 0 and not result.is_provisional
    assert pq.read_table(result.path).schema.names[:3] == ["site_id", "property_url", "date"]


@pytest.mark.parametrize("metadata_style", ["snake", "camel"])
def test_provisional_rows_are_replaced_by_final_ones_when_the_day_settles(
    metadata_style: str, shop_model: SearchModel
) -> None:
    day = TODAY - timedelta(days=1)
    with FakeSearchConsole(
        today=TODAY,
        first_incomplete_date=FINAL_UNTIL,
        metadata_style=metadata_style,
        model=shop_model,
    ) as fake:
        fresh = _pull(fake, day)
        assert fresh.is_provisional and fresh.data_state == "all"
        assert fresh.first_incomplete_date == FINAL_UNTIL  # read in either spelling
        assert [r.body["dataState"] for r in fake.requests] == ["final", "all", "all"]
        landed = pq.read_table(fresh.path)
        assert pc.all(landed["is_provisional"]).as_py()

        fake.set_first_incomplete_date(TODAY)  # Google has settled the day
        final = _pull(fake, day)
    assert not final.is_provisional and final.data_state == "final"
    assert final.path == fresh.path and landed_days("shop") == [day]
    table = pq.read_table(final.path)
    assert not pc.any(table["is_provisional"]).as_py()
    assert table.num_rows == final.rows and final.provisional_rows == 0
    assert final.impressions > fresh.impressions  # fresh data was partial


def test_a_late_repull_of_a_provisional_day_without_final_data_keeps_it_provisional(
    fake: FakeSearchConsole, shop_model: SearchModel
) -> None:
    day = TODAY - timedelta(days=1)
    fresh = _pull(fake, day)
    assert fresh.is_provisional and fresh.rows > 0

    # A backfill two weeks later, Google still without final data: older than fresh_days, but
    # the landed rows are provisional, so `all` is asked again rather than landing an empty day.
    later = TODAY + timedelta(days=14)
    before = len(fake.requests)
    (again,) = pull_days(_site(fake), day, day, gsc=_gsc(fake), env=_env(fake), today=later)
    assert [r.body["dataState"] for r in fake.requests[before:]] == ["final", "all", "all"]
    assert again.is_provisional and again.data_state == "all" and again.rows == fresh.rows
    assert pc.all(pq.read_table(again.path)["is_provisional"]).as_py()

    # A server with nothing at all for the day: the landed provisional file stays untouched.
    landed = again.path.read_bytes()
    with FakeSearchConsole(today=day - timedelta(days=1), model=shop_model) as empty:
        (kept,) = pull_days(_site(empty), day, day, gsc=_gsc(empty), env=_env(empty), today=later)
        assert [r.body["dataState"] for r in empty.requests] == ["final", "all"]
    assert again.path.read_bytes() == landed
    assert kept.is_provisional and kept.rows == fresh.rows and kept.clicks == fresh.clicks
    assert kept.first_incomplete_date == FINAL_UNTIL


def test_an_old_final_day_answered_empty_is_replaced_without_asking_for_fresh_data(
    fake: FakeSearchConsole, shop_model: SearchModel
) -> None:
    final = _pull(fake, OLD_DAY)
    assert not final.is_provisional and final.rows > 0
    with FakeSearchConsole(today=OLD_DAY - timedelta(days=1), model=shop_model) as empty:
        (gone,) = pull_days(_site(empty), OLD_DAY, OLD_DAY, gsc=_gsc(empty), env=_env(empty))
        assert [r.body["dataState"] for r in empty.requests] == ["final"]
    assert gone.rows == 0 and not gone.is_provisional


def test_fewer_dimensions_aggregate_by_property_and_leave_page_columns_null(
    fake: FakeSearchConsole,
) -> None:
    result = _pull(fake, OLD_DAY, gsc=_gsc(fake, dimensions=["QUERY"]))
    body = fake.requests[0].body
    assert body["dimensions"] == ["date", "query"] and "aggregationType" not in body
    table = pq.read_table(result.path)
    assert table["page"].null_count == table.num_rows
    assert set(table["aggregation_type"].to_pylist()) == {"byProperty"}
    assert len(pc.unique(table["query"])) == table.num_rows


def test_a_range_lands_one_file_per_day_and_reports_each(fake: FakeSearchConsole) -> None:
    seen: list[date] = []
    results = pull_days(
        _site(fake),
        FINAL_UNTIL - timedelta(days=1),
        FINAL_UNTIL + timedelta(days=1),
        gsc=_gsc(fake),
        env=_env(fake),
        today=TODAY,
        on_day=lambda r: seen.append(r.day),
    )
    assert [r.day for r in results] == seen == landed_days("shop")
    assert [r.is_provisional for r in results] == [False, True, True]


def test_the_demo_data_has_cannibalized_queries_striking_distance_and_unicode(
    fake: FakeSearchConsole,
) -> None:
    client = SearchConsoleClient.from_settings(_gsc(fake), _env(fake))
    result = client.query_rows(
        {
            "startDate": str(TODAY - timedelta(days=9)),
            "endDate": str(FINAL_UNTIL - timedelta(days=1)),
            "dimensions": ["query", "page"],
            "aggregationType": "byPage",
        }
    )
    by_query: dict[str, list[tuple[str, float]]] = defaultdict(list)
    pages: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in result.rows:
        query, page = row["keys"]
        by_query[query].append((page, row["clicks"]))
        pages[page][0] += row["impressions"]
        pages[page][1] += row["position"] * row["impressions"]

    def cannibalized(query: str) -> bool:
        total = sum(c for _p, c in by_query[query])
        return total > 0 and sum(1 for _p, c in by_query[query] if c / total >= 0.2) >= 2

    assert cannibalized("jackets")
    assert {p.split("/c/")[1] for p, _c in by_query["jackets"]} == {
        "women/jackets/",
        "men/jackets/",
    }
    assert sum(cannibalized(q) for q in by_query if q.startswith("best ")) >= 10
    striking = [p for p, (imp, pos) in pages.items() if imp >= 100 and 4 <= pos / imp <= 20]
    assert len(striking) >= 50
    assert {"größentabelle", "ワンピース", "café crème", "robe d'été"} <= set(by_query)


def test_the_same_day_is_served_identically_by_two_servers() -> None:
    with FakeSearchConsole(today=TODAY) as one, FakeSearchConsole(today=TODAY) as two:
        assert one.model.cells(OLD_DAY) == two.model.cells(OLD_DAY)


def test_inspection_records_google_canonicals_spends_budget_and_reports_leftovers(
    fake: FakeSearchConsole, tmp_path: Path
) -> None:
    model = fake.model
    duplicate = next(p for p in sorted(model.pages) if model.duplicate_of(p))
    urls = [
        model.site.url(duplicate),
        model.site.url("/c/women/dresses/?page=2"),
        model.site.url("/"),
        "https://elsewhere.example/page",  # outside the property: no quota spent
        "mailto:someone@example.com",  # not a URL we can inspect
        model.site.url("/"),  # duplicate in the list: inspected once
        model.site.url("/about/"),
        model.site.url("/contact/"),
    ]
    budget = InspectionBudget(tmp_path / "state" / "gsc_budget.sqlite", daily_limit=3)
    run = inspect_urls(_site(fake), urls, gsc=_gsc(fake), env=_env(fake), budget=budget)
    by_url = {row["inspection_url"]: row for row in run.rows}
    dup = by_url[model.site.url(duplicate)]
    assert dup["coverage_state"] == "Duplicate, Google chose different canonical than user"
    assert dup["google_canonical"] == model.site.url(model.duplicate_of(duplicate) or "")
    assert dup["user_canonical"] == model.site.url(duplicate)
    assert by_url[model.site.url("/")]["verdict"] == "PASS"
    assert "not part of property" in by_url["https://elsewhere.example/page"]["error"]
    assert by_url["mailto:someone@example.com"]["error"] == "not an absolute http(s) URL"
    assert run.inspected == 3 and run.errors == 2 and run.canonical_mismatches == 2
    assert run.skipped_for_budget == (model.site.url("/about/"), model.site.url("/contact/"))
    assert run.budget_remaining == 0
    assert sum(1 for r in fake.requests if r.method == "inspect") == 3
    landed = pq.read_table(run.path)
    assert landed.num_rows == 5

    again = inspect_urls(_site(fake), urls[:1], gsc=_gsc(fake), env=_env(fake), budget=budget)
    assert again.inspected == 0 and again.skipped_for_budget == (model.site.url(duplicate),)


def test_an_inspection_403_stops_the_run_with_the_property_named(fake: FakeSearchConsole) -> None:
    fake.deny(method="inspect")
    run = inspect_urls(_site(fake), [fake.model.site.url("/")], gsc=_gsc(fake), env=_env(fake))
    assert run.failure is not None and fake.property_url in run.failure
    assert "not part of this property" in run.failure
    assert run.rows == [] and run.path is None


def test_an_inspection_storm_lands_what_was_inspected_before_it(fake: FakeSearchConsole) -> None:
    fake.inject(503, times=-1, method="inspect", after=2)
    urls = [fake.model.site.url(p) for p in ("/", "/about/", "/contact/", "/returns/")]
    run = inspect_urls(_site(fake), urls, gsc=_gsc(fake), env=_env(fake))
    assert run.failure is not None and "failed after 4 attempts" in run.failure
    assert run.inspected == 2
    assert pq.read_table(run.path).num_rows == 2


def test_a_malformed_last_crawl_time_lands_the_row_with_the_raw_value_and_a_warning(
    fake: FakeSearchConsole,
) -> None:
    urls = [fake.model.site.url(p) for p in ("/", "/about/", "/contact/")]
    fake.override_inspection(urls[1], lastCrawlTime="2026-13-45T25:61:00Z")
    run = inspect_urls(_site(fake), urls, gsc=_gsc(fake), env=_env(fake))
    assert run.failure is None and run.inspected == 3 and run.with_warnings == 1
    landed = {row["url"]: row for row in pq.read_table(run.path).to_pylist()}
    bad = landed[urls[1]]
    assert bad["verdict"] == "PASS" and bad["error"] is None
    assert bad["last_crawl_time"] is None
    assert bad["last_crawl_time_raw"] == "2026-13-45T25:61:00Z"
    assert bad["warnings"] == [
        "invalid_last_crawl_time: lastCrawlTime '2026-13-45T25:61:00Z' is not a timestamp"
    ]
    good = landed[urls[2]]
    assert good["last_crawl_time"] is not None and good["warnings"] is None
    assert good["last_crawl_time_raw"].startswith(str(good["last_crawl_time"].year))


def test_the_make_demo_helper_pulls_days_and_inspects_through_the_real_client(
    tmp_path: Path,
) -> None:
    from demo.gsc_server import pull_demo_search_console

    lines = pull_demo_search_console(
        f"http://demo{next(_SHOPS)}.test", days=2, inspect=8, base=tmp_path
    )
    assert len(landed_days("demo", tmp_path)) == 2
    assert any(line.startswith("search console: ") and "over 2 days" in line for line in lines)
    assert any(line.startswith("inspected 8 URLs") for line in lines)
