"""The warehouse in Dagster: dbt models as assets, split into branches, and PageRank between them.

Why several `@dbt_assets` instead of one: a failing dbt test fails its whole dbt step, and
Dagster then skips every step downstream of it. Each branch below is one dbt invocation whose
models share the same upstream branches, so a bad Search Console day (a file that fails a test
in the search branch) stops the search marts, `dim_pages_search`, `link_position_performance`
and `equity_gaps`, but not PageRank, link equity or the core marts:

    graph  ─┬─> page_scores (PageRank, Python) ─> equity ─┐
            └─> marts ─┐                                   ├─> equity_gaps
    search ─┬──────────┴─> search_pages                    │
            └──────────────────────────────────────────────┘

The core marts know which URLs Search Console reported (`stg_gsc__page_urls`, read straight from
the landed files with no figure a test could reject), so `dim_pages.in_gsc` and orphan_pages'
`gsc` provenance do not wait for the search branch; the Search Console figures per page are in
`dim_pages_search`, built after both.

Every step that opens the warehouse runs in the `warehouse` pool (limit 1 in the instance's
dagster.yaml) *and* under `linking.warehouse.warehouse_lock`, so overlapping runs queue instead
of failing with DuckDB's "could not set lock on file".
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from linking.warehouse import (
    compute_page_scores,
    ensure_landing_placeholders,
    pagerank_settings_by_site,
    table_row_counts,
    warehouse_lock,
    warehouse_path,
)
from orchestration.lib.dbt import dbt_project
from orchestration.lib.settings import LinkwarehouseSettings

WAREHOUSE_POOL = "warehouse"
PAGE_SCORES = dg.AssetKey(["linking", "page_scores"])
GRAPH_NODES = dg.AssetKey(["warehouse", "int_link_graph_nodes"])
GRAPH_EDGES = dg.AssetKey(["warehouse", "int_link_graph_edges"])


class WarehouseTranslator(DagsterDbtTranslator):
    """Models: key `["warehouse", <model>]`, group = their top folder (staging, intermediate,
    marts). Sources: the key of the ingest asset that lands them (`meta.dagster.asset_key`)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        if dbt_resource_props["resource_type"] == "source" or len(fqn) < 3:
            return super().get_group_name(dbt_resource_props)
        return fqn[1]  # [project, folder, ..., model]


# Two dbt sources (crawl pages and crawl_run.json) are landed by the same crawl asset.
TRANSLATOR = WarehouseTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


@dataclass(frozen=True)
class Branch:
    """One dbt invocation: a selection of models sharing the same upstream branches."""

    name: str
    select: str
    exclude: str | None
    description: str


BRANCHES: tuple[Branch, ...] = (
    Branch(
        "warehouse_graph",
        "path:models/staging/crawl path:models/staging/backlinks path:models/intermediate",
        "path:models/intermediate/search",
        "Crawl and backlink staging, redirect/canonical folding, indexability, the link graph "
        "PageRank reads, backlink authority and click depth.",
    ),
    Branch(
        "warehouse_search",
        "path:models/staging/gsc path:models/intermediate/search path:models/marts/search",
        "fqn:*.stg_gsc__page_urls",
        "Search Console staging, page performance, daily performance and query cannibalization.",
    ),
    Branch(
        "warehouse_marts",
        "path:models/staging/sitemaps fqn:*.stg_gsc__page_urls path:models/marts",
        "path:models/marts/search path:models/marts/equity path:models/marts/search_pages",
        "Sitemap staging, the URLs Search Console knows; dim_pages, internal links, backlinks, "
        "orphans, depth, sitemap audit (no Search Console figures: they wait for search).",
    ),
    Branch(
        "warehouse_search_pages",
        "path:models/marts/search_pages",
        None,
        "Search Console figures per page (dim_pages_search) and link position performance "
        "(needs marts, search and graph).",
    ),
    Branch(
        "warehouse_equity",
        "path:models/staging/linking fqn:*.page_link_equity",
        None,
        "PageRank scores back from Parquet: page_link_equity.",
    ),
    Branch(
        "warehouse_equity_gaps",
        "fqn:*.equity_gaps",
        None,
        "Striking-distance pages short of link equity (needs search and equity).",
    ),
)


@contextmanager
def _dbt_env(data: Path) -> Iterator[None]:
    """Environment for the dbt subprocess, copied when it starts, so set for that moment only.

    * LINKWAREHOUSE_DATA: the settings' data folder (profiles.yml renders it).
    * DBT_INDIRECT_SELECTION=buildable: a test runs with the branch that builds the last of its
      models. dbt's default (eager) would run `page_link_equity`'s relationship test with the
      graph branch, before page_link_equity exists. dagster-dbt still sets its own value when it
      runs a subset of checks.
    """
    updates = {"LINKWAREHOUSE_DATA": str(data), "DBT_INDIRECT_SELECTION": "buildable"}
    before = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_dbt_build(
    context: AssetExecutionContext, dbt: DbtCliResource, settings: LinkwarehouseSettings
) -> Iterator[Any]:
    """`dbt build` of the context's selection with the writer lock held; events get row counts.

    Events are held until dbt exits so the row counts can be read from the warehouse (DuckDB
    refuses a second process while dbt writes); a failure is raised after the events of the
    models that did build.
    """
    data = settings.data_path
    ensure_landing_placeholders(data)
    events: list[Any] = []
    failure: BaseException | None = None
    with warehouse_lock(data) as waited:
        if waited > 1:
            context.log.info(f"waited {waited:.1f} s for the warehouse writer lock")
        with _dbt_env(data):
            invocation = dbt.cli(["build"], context=context)
        try:
            for event in invocation.stream():
                events.append(event)
        except Exception as error:  # noqa: BLE001 - re-raised below, after the good events
            failure = error
            context.log.error(f"dbt step failed: {type(error).__name__}: {error}")
        finally:
            # dbt must be gone before the row counts are read or the lock is released: a
            # failure while streaming events leaves it running, and still writing.
            invocation.process.wait()
        nodes = invocation.manifest.get("nodes", {})
        relations = {_relation(event, nodes) for event in events} - {None}
        try:
            counts = table_row_counts(warehouse_path(data), sorted(relations))  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - metadata only: never hide the dbt result
            context.log.warning(f"row counts unavailable: {error}")
            counts = {}
    for event in events:
        relation = _relation(event, nodes)
        if relation in counts:
            event = event.with_metadata({**event.metadata, "dagster/row_count": counts[relation]})
        yield event
    if failure is not None:
        raise failure


def _relation(event: Any, nodes: Mapping[str, Any]) -> str | None:
    """`schema.table` of a dbt model materialization event (None for checks, observations)."""
    if not isinstance(event, dg.Output):
        return None
    unique_id = event.metadata.get("unique_id")
    node = nodes.get(str(getattr(unique_id, "value", unique_id)))
    if node is None or node.get("resource_type") != "model":
        return None
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def _branch_assets(branch: Branch) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        select=branch.select,
        exclude=branch.exclude,
        name=branch.name,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
    )
    def _assets(
        context: AssetExecutionContext, dbt: DbtCliResource, settings: LinkwarehouseSettings
    ) -> Iterator[Any]:
        yield from run_dbt_build(context, dbt, settings)

    _assets.op.__doc__ = branch.description
    return _assets


warehouse_dbt_assets: list[dg.AssetsDefinition] = [_branch_assets(b) for b in BRANCHES]


@dg.asset(
    key=PAGE_SCORES,
    deps=[GRAPH_NODES, GRAPH_EDGES],
    group_name="intermediate",
    pool=WAREHOUSE_POOL,
    kinds={"python", "parquet"},
    description=(
        "PageRank variants (raw, weighted, policy, TIPR), link score, hoarders and wasters per "
        "page of the folded internal link graph, by linking.graph; landed as "
        "landing/linking/<site>/page_scores.parquet, which dbt reads back as a source."
    ),
)
def page_scores(
    context: AssetExecutionContext, settings: LinkwarehouseSettings
) -> dg.MaterializeResult:
    """Read the graph models read-only, compute every variant per site with the site's
    `pagerank:` settings from the config, land Parquet."""
    site_settings = pagerank_settings_by_site(settings.config())
    results = compute_page_scores(settings.data_path, site_settings=site_settings)
    lines = [
        "| site | pages | eligible | edges | iterations (raw/weighted/policy/tipr) | nofollow "
        "| s |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for r in results:
        its = "/".join(str(r.iterations.get(v, "-")) for v in ("raw", "weighted", "policy", "tipr"))
        nofollow = r.settings.nofollow if r.settings else "-"
        lines.append(
            f"| {r.site_id} | {r.n_pages} | {r.n_eligible} | {r.n_edges} | {its} | {nofollow} | "
            f"{r.seconds:.2f} |"
        )
        context.log.info(f"page scores of {r.site_id}: {r.n_pages} pages -> {r.path}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(r.n_pages for r in results),
            "sites": [r.site_id for r in results],
            "converged": all(r.converged for r in results),
            "runs": dg.MetadataValue.md("\n".join(lines)),
            "pagerank_settings": dg.MetadataValue.json(
                {r.site_id: r.settings.model_dump(mode="json") for r in results if r.settings}
            ),
        }
    )
