"""Every PageRank variant on the demo shop's real link graph, against networkx.

The random tables of test_link_equity.py cover the definitions; this runs them on the graph the
warehouse actually builds from a crawl with templates, nofollow links, redirects, canonicals and
backlinks (the `make demo` warehouse), where position weights and boilerplate discounts matter.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from conftest import TIGHT_TOL, Reference
from test_link_equity import assert_variants_match, reference_variants

from linking.graph import PageRankSettings, compute_link_equity
from linking.pagerank_io import DEFAULT_EDGES_RELATION, DEFAULT_NODES_RELATION

pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def demo_graph(demo_run) -> tuple[pa.Table, pa.Table, dict[str, float | None]]:
    """(nodes, edges with keys, the landed policy scores) of site demo."""
    assert demo_run.returncode == 0, demo_run.stderr[-4000:]
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        nodes = con.execute(
            "select url_key, is_eligible, referring_domains"
            f" from {DEFAULT_NODES_RELATION} where site_id = 'demo' order by url_key"
        ).fetch_arrow_table()
        edges = con.execute(
            "select source_key, target_key, position, weight, is_followed"
            f" from {DEFAULT_EDGES_RELATION} where site_id = 'demo'"
        ).fetch_arrow_table()
        landed = dict(
            con.execute(
                "select url_key, pagerank_policy from marts.page_link_equity where site_id = 'demo'"
            ).fetchall()
        )
    finally:
        con.close()
    return nodes, edges, landed


def test_the_demo_graph_has_what_the_variants_tell_apart(demo_graph) -> None:
    nodes, edges, _ = demo_graph
    assert nodes.num_rows > 2000 and edges.num_rows > 20_000
    positions = set(edges.column("position").to_pylist())
    assert {"content", "nav", "footer", "breadcrumb"} <= positions
    assert False in edges.column("is_followed").to_pylist()
    assert any(w is not None and w < 1 for w in edges.column("weight").to_pylist())  # redirects
    assert any(rd for rd in nodes.column("referring_domains").to_pylist())


def test_every_variant_matches_networkx_on_the_demo_graph(demo_graph, reference: Reference) -> None:
    nodes, edges, _ = demo_graph
    settings = PageRankSettings(tol=TIGHT_TOL)
    result = compute_link_equity(nodes, edges, settings)
    assert_variants_match(result, reference_variants(nodes, edges, settings, reference))


def test_the_landed_scores_are_the_library_scores(demo_graph) -> None:
    """The warehouse's page_link_equity is compute_link_equity at the default tolerance."""
    nodes, edges, landed = demo_graph
    result = compute_link_equity(nodes, edges, PageRankSettings(tol=TIGHT_TOL))
    exact = dict(
        zip(
            result.table.column("url_key").to_pylist(),
            result.table.column("pagerank_policy").to_pylist(),
            strict=True,
        )
    )
    scored = {k for k, v in exact.items() if v is not None}
    assert scored == {k for k, v in landed.items() if v is not None}
    assert sum(abs(landed[k] - exact[k]) for k in scored) <= 1e-5
