"""The warehouse materialized through Dagster: branch isolation, metadata, serialized writers.

One module-level run on a tiny landing folder whose Search Console file breaks a dbt test, so
the search branch fails and we can see what goes on without it: PageRank, link equity and the
core marts build (orphans keep their Search Console provenance), the marts that need Search
Console figures do not. The overlapping-runs test copies
that folder and runs two warehouse jobs at once in two processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from ingest.gsc.schema import SEARCH_ANALYTICS_SCHEMA
from ingest.landing import SCHEMAS, write_json, write_rows
from ingest.urls import url_key
from orchestration.defs.warehouse import WAREHOUSE_JOB, build_defs
from orchestration.lib.settings import LinkwarehouseSettings

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://tiny.example"
ORPHAN = f"{SITE}/old"  # only Search Console knows it
# Building a warehouse runs several dbt processes: minutes on a loaded machine.
pytestmark = pytest.mark.timeout(1200)


def _tiny_landing(data: Path) -> None:
    """Three pages linking to each other, and a Search Console day with a duplicated row (which
    fails fct_search_performance_daily's uniqueness test) that also reports an unlinked URL."""
    run = data / "landing" / "crawl" / "tiny" / "20260101T000000000000Z"
    urls = [f"{SITE}/", f"{SITE}/a", f"{SITE}/b"]
    pages = [
        {
            "url": u,
            "url_key": url_key(u),
            "status": 200,
            "final_url": u,
            "final_status": 200,
            "redirect_chain": [{"url": u, "status": 200}],
            "crawl_state": "ok",
            "is_html": True,
            "canonical": u,
            "is_indexable": True,
            "indexability_reason": "indexable",
        }
        for u in urls
    ]
    links = [
        {
            "source_url": s,
            "source_key": url_key(s),
            "target_url": t,
            "target_key": url_key(t),
            "position": "content",
            "link_index": i,
            "is_internal": True,
        }
        for s in urls
        for i, t in enumerate(x for x in urls if x != s)
    ]
    write_rows(pages, SCHEMAS["pages"], run / "pages.parquet")
    write_rows(links, SCHEMAS["links"], run / "links.parquet")
    write_rows([], SCHEMAS["errors"], run / "errors.parquet")
    write_json(
        {
            "site_id": "tiny",
            "complete": True,
            "stop_reason": "frontier_empty",
            "start_urls": [urls[0]],
        },
        run / "crawl_run.json",
    )
    row = {
        "site_id": "tiny",
        "date": date(2026, 1, 1),
        "page": urls[1],
        "page_url": urls[1],
        "url_key": url_key(urls[1]),
        "query": "tiny",
        "device": "MOBILE",
        "country": "gbr",
        "search_type": "web",
        "clicks": 1,
        "impressions": 10,
        "position": 5.0,
    }
    day = data / "landing" / "gsc" / "tiny" / "search_analytics" / "date=2026-01-01"
    orphan = {**row, "page": ORPHAN, "page_url": ORPHAN, "url_key": url_key(ORPHAN)}
    write_rows([row, row, orphan], SEARCH_ANALYTICS_SCHEMA, day / "search_analytics.parquet")


def _defs(data: Path) -> dg.Definitions:
    config = data / "config.yaml"  # tiny's PageRank settings come from its config block
    config.write_text(
        f"sites:\n  - id: tiny\n    start_urls: ['{SITE}/']\n"
        "    pagerank: {alpha: 0.5, nofollow: drop}\n"
    )
    settings = LinkwarehouseSettings(data_dir=str(data), config_path=str(config))
    return dg.Definitions.merge(build_defs(), dg.Definitions(resources={"settings": settings}))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dg.ExecuteInProcessResult]:
    data = tmp_path_factory.mktemp("warehouse_run")
    _tiny_landing(data)
    job = _defs(data).resolve_job_def(WAREHOUSE_JOB)
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return data, result


def _steps(result: dg.ExecuteInProcessResult, event_type: str) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == event_type}


def _materialized(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, dict]:
    return {
        e.asset_key: e.step_materialization_data.materialization.metadata
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }


def test_a_failing_search_branch_stops_only_what_needs_search_figures(run) -> None:
    _, result = run
    assert not result.success
    assert _steps(result, "STEP_FAILURE") == {"warehouse_search"}
    succeeded = _steps(result, "STEP_SUCCESS")
    assert {
        "warehouse_graph",
        "linking__page_scores",
        "warehouse_equity",
        "warehouse_marts",
    } <= succeeded
    # downstream of the failed branch: never ran, nothing materialized
    assert not {"warehouse_search_pages", "warehouse_equity_gaps"} & succeeded
    materialized = _materialized(result)
    for built in (
        "page_link_equity",
        "dim_pages",
        "orphan_pages",
        "page_depth",
        "sitemap_audit",
        "fct_internal_links",
        "fct_backlinks",
        "stg_gsc__page_urls",
    ):
        assert dg.AssetKey(["warehouse", built]) in materialized, built
    for missing in ("dim_pages_search", "link_position_performance", "equity_gaps"):
        assert dg.AssetKey(["warehouse", missing]) not in materialized, missing


def test_orphans_keep_search_console_provenance_when_the_search_branch_fails(run) -> None:
    """The core marts read which URLs Search Console reported, not its figures: a day that
    fails the search tests still says that GSC knows the URL."""
    import duckdb

    from linking.warehouse import warehouse_summary

    data, _ = run
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        orphans = con.execute(
            "select url, found_in, orphan_status from marts.orphan_pages where site_id = 'tiny'"
        ).fetchall()
        in_gsc = con.execute(
            "select url from marts.dim_pages where site_id = 'tiny' and in_gsc order by url"
        ).fetchall()
    finally:
        con.close()
    assert orphans == [(ORPHAN, ["gsc"], "orphan")]
    assert in_gsc == [(f"{SITE}/a",), (ORPHAN,)]
    summary = "\n".join(warehouse_summary(data / "warehouse.duckdb"))
    assert "Search Console 2" in summary  # URLs known
    assert "orphans: 1 (found in sitemaps 0, Search Console 1, backlinks 0" in summary


def test_the_failed_dbt_test_is_a_failed_blocking_check(run) -> None:
    _, result = run
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failed = [
        ev
        for ev in evaluations
        if not ev.passed and ev.asset_key.path[-1] == "fct_search_performance_daily"
    ]
    assert failed and failed[0].check_name.startswith("unique_combination_of_columns")


def test_materializations_carry_row_counts_read_after_dbt_exits(run) -> None:
    _, result = run
    materialized = _materialized(result)
    pages = materialized[dg.AssetKey(["warehouse", "stg_crawl__pages"])]
    assert pages["dagster/row_count"].value == 3
    edges = materialized[dg.AssetKey(["warehouse", "int_link_graph_edges"])]
    assert edges["dagster/row_count"].value == 6
    scores = materialized[dg.AssetKey(["linking", "page_scores"])]
    assert scores["dagster/row_count"].value == 3
    assert scores["converged"].value is True


def test_page_scores_land_as_parquet_that_dbt_reads_back(run) -> None:
    import duckdb

    data, _ = run
    assert (data / "landing" / "linking" / "tiny" / "page_scores.parquet").exists()
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        scores = con.execute(
            "select link_score from marts.page_link_equity where site_id = 'tiny'"
        ).fetchall()
    finally:
        con.close()
    assert len(scores) == 3
    assert max(s for (s,) in scores) == pytest.approx(100.0)


def test_page_scores_use_the_sites_pagerank_config_and_the_mart_reports_it(run) -> None:
    import duckdb

    data, result = run
    used = _materialized(result)[dg.AssetKey(["linking", "page_scores"])]
    assert used["pagerank_settings"].value["tiny"]["alpha"] == 0.5
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        policies = con.execute(
            "select distinct nofollow_policy from marts.page_link_equity where site_id = 'tiny'"
        ).fetchall()
    finally:
        con.close()
    assert policies == [("drop",)]


_RUN_SCRIPT = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    import dagster as dg
    from orchestration.defs.warehouse import WAREHOUSE_JOB, build_defs
    from orchestration.defs.warehouse.assets import PAGE_SCORES, warehouse_dbt_assets
    from orchestration.lib.settings import LinkwarehouseSettings

    data, names = sys.argv[1], sys.argv[2].split(",")  # branch, model or "page_scores" names
    defs = dg.Definitions.merge(
        build_defs(),
        dg.Definitions(resources={"settings": LinkwarehouseSettings(data_dir=data)}),
    )
    keys = [
        k
        for a in warehouse_dbt_assets
        for k in a.keys
        if a.op.name in names or k.path[-1] in names
    ]
    if "page_scores" in names:
        keys.append(PAGE_SCORES)
    # start together: both processes are past their (slow) imports before either runs
    barrier = Path(sys.argv[3])
    (barrier / sys.argv[4]).touch()
    while len(list(barrier.iterdir())) < 2:
        time.sleep(0.05)
    print("START", flush=True)
    result = defs.resolve_job_def(WAREHOUSE_JOB).execute_in_process(
        instance=dg.DagsterInstance.get(), asset_selection=keys, raise_on_error=False
    )
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            print("FAILURE", event.step_key, event.event_specific_data.error.to_string())
    print("RESULT", result.success, flush=True)
    """
)


_INIT_INSTANCE = (
    "import dagster as dg\n"
    "instance = dg.DagsterInstance.get()\n"
    "instance.get_runs(limit=1)\n"
    "instance.get_asset_keys()\n"
    "instance.all_instigator_state()\n"
)


@pytest.mark.parametrize("pool_limit", [True, False], ids=["pool_limit", "file_lock_only"])
def test_overlapping_runs_do_not_hit_a_duckdb_lock_error(
    run, tmp_path: Path, pool_limit: bool
) -> None:
    """Two processes open the same warehouse at once: one rebuilds crawl staging models while
    the other reads the graph models for PageRank and writes page_link_equity. Both must
    succeed, one after the other: through the `warehouse` pool when the instance limits it,
    through the warehouse file lock when it does not."""
    source, _ = run
    data = tmp_path / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("*.lock", "dbt_target"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    limits = "concurrency:\n  pools:\n    default_limit: 1\n" if pool_limit else ""
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + limits)
    script = tmp_path / "run_warehouse.py"
    script.write_text(_RUN_SCRIPT)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "LINKWAREHOUSE_DATA": str(data)}
    # Create the instance's SQLite storages first: two processes creating them at once race
    # ("table runs already exists"), which is Dagster's start-up, not what this test is about.
    subprocess.run(
        [sys.executable, "-c", _INIT_INSTANCE], cwd=ROOT, env=env, check=True, timeout=300
    )
    jobs = [
        subprocess.Popen(
            [sys.executable, str(script), str(data), branches, str(barrier), str(index)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index, branches in enumerate(
            ("stg_crawl__runs,stg_crawl__errors", "page_scores,warehouse_equity")
        )
    ]
    started = time.monotonic()
    outputs = [job.communicate(timeout=900)[0] for job in jobs]
    assert time.monotonic() - started < 900
    for job, output in zip(jobs, outputs, strict=True):
        assert "Could not set lock" not in output and "Conflicting lock" not in output, output
        assert job.returncode == 0, output[-4000:]
        assert "RESULT True" in output, output[-4000:]
    if pool_limit:  # the second step waited in Dagster, visibly
        assert any("Step blocked by limit for pool warehouse" in o for o in outputs), outputs
