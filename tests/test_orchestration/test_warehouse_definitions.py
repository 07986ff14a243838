"""The warehouse's Dagster wiring, read from the definitions (nothing is materialized here)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.defs.warehouse import WAREHOUSE_JOB, build_defs
from orchestration.defs.warehouse.assets import (
    BRANCHES,
    GRAPH_EDGES,
    GRAPH_NODES,
    PAGE_SCORES,
    WAREHOUSE_POOL,
    page_scores,
    warehouse_dbt_assets,
)
from orchestration.lib.dbt import dbt_project
from orchestration.lib.settings import LinkwarehouseSettings


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_text())


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        build_defs(), dg.Definitions(resources={"settings": LinkwarehouseSettings()})
    )


def _models(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def test_the_warehouse_definitions_load_and_validate(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def(WAREHOUSE_JOB)
    assert job.partitions_def is None


def test_every_model_is_built_by_exactly_one_branch(manifest: dict) -> None:
    models = set(_models(manifest))
    owners: dict[str, list[str]] = {}
    for assets in warehouse_dbt_assets:
        for key in assets.keys:
            owners.setdefault(key.path[-1], []).append(assets.op.name)
    assert set(owners) == models, models ^ set(owners)
    assert {name: ops for name, ops in owners.items() if len(ops) > 1} == {}
    assert [a.op.name for a in warehouse_dbt_assets] == [b.name for b in BRANCHES]


def test_models_are_keyed_under_warehouse_and_grouped_by_their_folder(
    defs: dg.Definitions, manifest: dict
) -> None:
    graph = defs.resolve_asset_graph()
    for name, node in _models(manifest).items():
        key = dg.AssetKey(["warehouse", name])
        assert graph.has(key), name
        assert graph.get(key).group_name == node["fqn"][1], name
    assert graph.get(PAGE_SCORES).group_name == "intermediate"


def test_sources_are_the_assets_that_land_them(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()

    def upstream(model: str) -> set[dg.AssetKey]:
        return set(graph.get(dg.AssetKey(["warehouse", model])).parent_keys)

    assert upstream("stg_crawl__pages") >= {dg.AssetKey(["crawl", "pages"])}
    assert upstream("stg_crawl__links") >= {dg.AssetKey(["crawl", "links"])}
    assert upstream("stg_crawl__errors") >= {dg.AssetKey(["crawl", "errors"])}
    assert upstream("stg_sitemaps__sitemap_urls") == {dg.AssetKey(["sitemaps", "sitemap_urls"])}
    assert upstream("stg_backlinks__backlinks") == {dg.AssetKey(["backlinks", "backlinks"])}
    assert upstream("stg_gsc__search_analytics") == {dg.AssetKey(["gsc", "search_analytics"])}
    assert upstream("stg_gsc__url_inspections") == {dg.AssetKey(["gsc", "url_inspection"])}
    assert upstream("stg_linking__page_scores") == {PAGE_SCORES}
    assert upstream("stg_gsc__page_urls") == {
        dg.AssetKey(["gsc", "search_analytics"]),
        dg.AssetKey(["gsc", "url_inspection"]),
    }


CORE_MARTS = (
    "dim_pages",
    "orphan_pages",
    "page_depth",
    "sitemap_audit",
    "fct_internal_links",
    "fct_backlinks",
)


def test_core_marts_do_not_wait_for_the_search_branch(defs: dg.Definitions) -> None:
    """A Search Console day that fails the search branch must not stop dim_pages, orphans,
    depth, the sitemap audit or the link facts: none of them has a search model upstream."""
    graph = defs.resolve_asset_graph()
    search = next(a for a in warehouse_dbt_assets if a.op.name == "warehouse_search").keys
    marts = next(a for a in warehouse_dbt_assets if a.op.name == "warehouse_marts").keys
    for name in CORE_MARTS:
        key = dg.AssetKey(["warehouse", name])
        assert key in marts, name
        seen, todo = set(), [key]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent not in seen and graph.has(parent):
                    seen.add(parent)
                    todo.append(parent)
        assert not seen & search, (name, seen & search)
    for name in ("dim_pages_search", "link_position_performance"):
        parents = graph.get(dg.AssetKey(["warehouse", name])).parent_keys
        assert dg.AssetKey(["warehouse", "int_gsc_page_performance"]) in parents, name


def test_pagerank_sits_between_the_graph_models_and_the_equity_marts(
    defs: dg.Definitions,
) -> None:
    graph = defs.resolve_asset_graph()
    assert set(graph.get(PAGE_SCORES).parent_keys) == {GRAPH_NODES, GRAPH_EDGES}
    downstream = graph.get(PAGE_SCORES).child_keys
    assert downstream == {dg.AssetKey(["warehouse", "stg_linking__page_scores"])}
    equity = graph.get(dg.AssetKey(["warehouse", "page_link_equity"]))
    assert dg.AssetKey(["warehouse", "stg_linking__page_scores"]) in equity.parent_keys


def test_every_step_that_opens_the_warehouse_is_in_the_warehouse_pool() -> None:
    for assets in [*warehouse_dbt_assets, page_scores]:
        assert assets.op.pool == WAREHOUSE_POOL, assets.op.name


def test_dbt_tests_are_asset_checks_and_errors_block(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    checks = {
        key.name: graph.get_check_spec(key)
        for key in graph.asset_check_keys
        if key.asset_key == dg.AssetKey(["warehouse", "dim_pages"])
    }
    unique = [name for name in checks if name.startswith("unique_combination_of_columns")]
    assert unique and all(checks[name].blocking for name in unique)


def test_the_manifest_does_not_depend_on_the_data_folder(manifest: dict) -> None:
    """Sources use relative paths (file_search_path), so one manifest serves any data folder."""
    for source in manifest["sources"].values():
        location = source["meta"]["external_location"]
        assert "'landing/" in location, location
        assert "/tmp" not in location and "LINKWAREHOUSE" not in location
