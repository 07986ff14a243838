"""Search Console in Dagster: the site x day asset, the inspection asset and the daily schedule."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
import yaml

from demo.gsc_data import SearchModel
from demo.gsc_server import FakeSearchConsole
from ingest.gsc.budget import PACIFIC, pacific_today
from ingest.gsc.landing import landed_days, search_analytics_path
from orchestration.lib.settings import LinkwarehouseSettings

SECRET_EMAIL = "dagster-reader@proj.iam.gserviceaccount.com"


def write_gsc_config(
    monkeypatch: pytest.MonkeyPatch, path: Path, sites: list[dict[str, object]]
) -> Path:
    """Write a config whose sites may carry `gsc:` and make it the active config."""
    path.write_text(yaml.safe_dump({"sites": sites}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LINKWAREHOUSE_CONFIG", str(path))
    return path


@pytest.fixture(scope="module")
def shop_model() -> SearchModel:
    return SearchModel("http://dagster.test")


@pytest.fixture
def fake(shop_model: SearchModel) -> Iterator[FakeSearchConsole]:
    with FakeSearchConsole(model=shop_model) as server:
        yield server


@pytest.fixture
def settings(
    fake: FakeSearchConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LinkwarehouseSettings:
    monkeypatch.setenv("GSC_API_ENDPOINT", fake.endpoint)
    key = {"type": "service_account", "client_email": SECRET_EMAIL, "private_key": "SECRET-KEY"}
    monkeypatch.setenv("GSC_CREDENTIALS_B64", base64.b64encode(json.dumps(key).encode()).decode())
    gsc = {"property_url": fake.property_url, "retries": 2, "backoff_base_s": 0.001}
    # Site id `demo`: the partitions were built from the default config when the module loaded.
    config = write_gsc_config(
        monkeypatch,
        tmp_path / "config.yaml",
        [{"id": "demo", "start_urls": [fake.property_url], "gsc": gsc}],
    )
    return LinkwarehouseSettings(config_path=str(config), data_dir=str(tmp_path / "data"))


def _key(day: date, site: str = "demo") -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"site": site, "date": day.isoformat()})


def _materialize(settings: LinkwarehouseSettings, key: dg.MultiPartitionKey, **kw: object):
    from orchestration.defs.gsc.assets import search_analytics

    return dg.materialize(
        [search_analytics],
        partition_key=key,
        resources={"settings": settings},
        instance=dg.DagsterInstance.ephemeral(),
        **kw,
    )


def test_the_gsc_definitions_load_with_the_settings_resource() -> None:
    from orchestration.defs.gsc import build_defs
    from orchestration.lib.settings import settings_resource

    defs = dg.Definitions.merge(
        build_defs(), dg.Definitions(resources={"settings": settings_resource()})
    )
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("gsc_search_analytics_job")
    assert isinstance(job.partitions_def, dg.MultiPartitionsDefinition)
    assert defs.resolve_job_def("gsc_url_inspection_job") is not None
    assert defs.resolve_schedule_def("gsc_daily_schedule").cron_schedule == "0 6 * * *"
    graph = defs.resolve_asset_graph()
    for key in (dg.AssetKey(["gsc", "search_analytics"]), dg.AssetKey(["gsc", "url_inspection"])):
        assert graph.get(key).group_name == "gsc"


def test_a_site_day_partition_lands_with_metadata_people_read_and_no_secret(
    settings: LinkwarehouseSettings,
) -> None:
    day = pacific_today() - timedelta(days=10)
    result = _materialize(settings, _key(day))
    assert result.success
    (materialization,) = result.asset_materializations_for_node("gsc__search_analytics")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["rows"] == metadata["dagster/row_count"] > 1000
    assert metadata["days"] == 1 and metadata["provisional_rows"] == 0
    assert metadata["data_state"] == "final"
    assert "| query | clicks | impressions |" in metadata["preview"]
    assert (
        pq.read_table(search_analytics_path("demo", day, settings.data_path)).num_rows
        == metadata["rows"]
    )
    logged = json.dumps([str(e) for e in result.all_events]) + json.dumps(metadata, default=str)
    assert "SECRET-KEY" not in logged


def test_a_fresh_day_lands_provisional_and_says_so(settings: LinkwarehouseSettings) -> None:
    day = pacific_today() - timedelta(days=1)
    result = _materialize(settings, _key(day))
    (materialization,) = result.asset_materializations_for_node("gsc__search_analytics")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["data_state"] == "all"
    assert metadata["provisional_rows"] == metadata["rows"] > 0


def test_a_500_storm_fails_the_partition_with_one_clear_message_and_lands_nothing(
    settings: LinkwarehouseSettings, fake: FakeSearchConsole
) -> None:
    fake.inject(500, times=-1, method="query")
    day = pacific_today() - timedelta(days=10)
    result = _materialize(settings, _key(day), raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    description = failure.step_failure_data.user_failure_data.description
    assert "failed after 3 attempts" in description and fake.property_url in description
    assert landed_days("demo", settings.data_path) == []


def test_a_403_failure_names_the_service_account(
    settings: LinkwarehouseSettings, fake: FakeSearchConsole
) -> None:
    fake.deny()
    result = _materialize(
        settings, _key(pacific_today() - timedelta(days=10)), raise_on_error=False
    )
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    description = failure.step_failure_data.user_failure_data.description
    assert SECRET_EMAIL in description and fake.property_url in description
    assert "SECRET-KEY" not in description


def test_a_backfill_of_several_days_runs_one_partition_per_run(
    settings: LinkwarehouseSettings,
) -> None:
    from orchestration.defs.gsc import build_defs

    defs = dg.Definitions.merge(build_defs(), dg.Definitions(resources={"settings": settings}))
    job = defs.resolve_job_def("gsc_search_analytics_job")
    instance = dg.DagsterInstance.ephemeral()
    days = [pacific_today() - timedelta(days=n) for n in (11, 10)]
    for day in days:
        assert job.execute_in_process(partition_key=str(_key(day)), instance=instance).success
    assert landed_days("demo", settings.data_path) == days
    materialized = instance.get_materialized_partitions(dg.AssetKey(["gsc", "search_analytics"]))
    assert {str(_key(d)) for d in days} <= materialized


def test_the_daily_schedule_repulls_the_last_four_days_of_each_gsc_site(
    settings: LinkwarehouseSettings,
) -> None:
    from orchestration.defs.gsc.schedules import gsc_daily_schedule

    today = pacific_today()
    at = datetime.combine(today, time(6, 0), tzinfo=PACIFIC)
    context = dg.build_schedule_context(
        scheduled_execution_time=at, resources={"settings": settings}
    )
    requests = list(gsc_daily_schedule(context))
    expected = [today - timedelta(days=n) for n in (1, 2, 3, 4)]
    assert [r.partition_key for r in requests] == [str(_key(d)) for d in expected]
    assert len({r.run_key for r in requests}) == 4 and all(
        str(today) in r.run_key for r in requests
    )


def _land_day(day: date, data: Path, *, provisional: bool) -> None:
    """A landed day of two rows, as pull_day writes it, without asking any server."""
    from ingest.gsc.landing import land_search_analytics_day
    from ingest.gsc.search_analytics import rows_to_table

    rows = [{"keys": [day.isoformat(), f"q{i}"], "clicks": 1.0, "impressions": 3.0} for i in (1, 2)]
    common = {"site_id": "demo", "is_provisional": provisional, "data_state": "final"}
    table = rows_to_table(rows, ["date", "query"], day=day, common=common)
    land_search_analytics_day(table, "demo", day, data)


def test_the_daily_schedule_also_repulls_landed_days_still_provisional_within_16_days(
    settings: LinkwarehouseSettings,
) -> None:
    from orchestration.defs.gsc.schedules import gsc_daily_schedule

    today = pacific_today()
    for back, provisional in ((2, True), (7, True), (9, False), (16, True), (17, True)):
        _land_day(today - timedelta(days=back), settings.data_path, provisional=provisional)
    at = datetime.combine(today, time(6, 0), tzinfo=PACIFIC)
    context = dg.build_schedule_context(
        scheduled_execution_time=at, resources={"settings": settings}
    )
    requests = list(gsc_daily_schedule(context))
    expected = [today - timedelta(days=n) for n in (1, 2, 3, 4, 7, 16)]
    assert [r.partition_key for r in requests] == [str(_key(d)) for d in expected]
    assert len({r.run_key for r in requests}) == len(expected)


def test_the_daily_schedule_says_when_gsc_sites_are_not_partitions_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs.gsc.schedules import gsc_daily_schedule

    gsc = {"property_url": "https://brandnew.test/"}
    config = write_gsc_config(
        monkeypatch,
        tmp_path / "new.yaml",
        [{"id": "brandnew", "start_urls": ["https://brandnew.test/"], "gsc": gsc}],
    )
    fresh = LinkwarehouseSettings(data_dir=str(tmp_path), config_path=str(config))
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime.now(PACIFIC), resources={"settings": fresh}
    )
    (skip,) = list(gsc_daily_schedule(context))
    assert isinstance(skip, dg.SkipReason)
    message = str(skip.skip_message)
    assert "brandnew" in message and "not partitions" in message and "reload" in message
    assert "no site has a gsc section" not in message


def test_the_daily_schedule_skips_when_no_site_has_gsc_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs.gsc.schedules import gsc_daily_schedule

    config = write_gsc_config(
        monkeypatch, tmp_path / "plain.yaml", [{"id": "plain", "start_urls": ["http://a.test/"]}]
    )
    plain = LinkwarehouseSettings(data_dir=str(tmp_path), config_path=str(config))
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime.now(PACIFIC), resources={"settings": plain}
    )
    (skip,) = list(gsc_daily_schedule(context))
    assert isinstance(skip, dg.SkipReason) and "no site has a gsc section" in str(skip.skip_message)


def test_the_inspection_asset_reports_verdicts_and_google_chosen_canonicals(
    settings: LinkwarehouseSettings, fake: FakeSearchConsole
) -> None:
    from orchestration.defs.gsc.assets import url_inspection

    site = fake.model.site
    urls = [site.url("/"), site.url("/c/women/dresses/?page=2"), site.url("/cart/")]
    result = dg.materialize(
        [url_inspection],
        partition_key="demo",
        resources={"settings": settings},
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"gsc__url_inspection": {"config": {"urls": urls}}}},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("gsc__url_inspection")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["inspected"] == 3 and metadata["errors"] == 0
    assert metadata["google_chose_other_canonical"] == 1
    assert metadata["budget_left_today"] == 1997
    assert "Blocked by robots.txt" in metadata["preview"]


def test_the_inspection_asset_without_urls_or_a_crawl_fails_with_what_to_do(
    settings: LinkwarehouseSettings,
) -> None:
    from orchestration.defs.gsc.assets import url_inspection

    result = dg.materialize(
        [url_inspection],
        partition_key="demo",
        resources={"settings": settings},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert (
        "materialize crawl/pages first" in failure.step_failure_data.user_failure_data.description
    )


def test_an_inspection_run_stopped_by_a_storm_is_recorded_partial_and_fails(
    settings: LinkwarehouseSettings, fake: FakeSearchConsole
) -> None:
    from orchestration.defs.gsc.assets import url_inspection

    fake.inject(503, times=-1, method="inspect", after=1)
    site = fake.model.site
    urls = [site.url("/"), site.url("/about/"), site.url("/contact/")]
    result = dg.materialize(
        [url_inspection],
        partition_key="demo",
        resources={"settings": settings},
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"gsc__url_inspection": {"config": {"urls": urls}}}},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "failed after 3 attempts" in failure.step_failure_data.user_failure_data.description
    (materialization,) = result.asset_materializations_for_node("gsc__url_inspection")
    assert materialization.partition == "demo"
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["partial"] is True
    assert metadata["inspected"] == 1 and metadata["not_inspected_failure"] == 2
    assert pq.read_table(metadata["path"]).num_rows == 1
