"""The core power iteration against networkx.pagerank: same fixed point to 1e-9 in L1, always."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TIGHT_TOL, Reference

from linking.graph import (
    PageRankNotConverged,
    TransposedGraph,
    link_score,
    pagerank,
)

L1 = 1e-9


def random_graph(seed: int, n: int = 120, m: int = 700) -> dict[str, np.ndarray | int]:
    """Power-law-ish targets, a tenth of the pages with no out-links (dangling), a few isolated
    pages, self-loops and repeated (src, dst) rows: everything networkx has a rule for."""
    rng = np.random.default_rng(seed)
    has_outlinks = rng.random(n) > 0.1
    has_outlinks[0] = True
    sources = np.flatnonzero(has_outlinks)
    src = rng.choice(sources, m)
    dst = (n * rng.random(m) ** 2).astype(np.int64)
    isolated = rng.choice(n, 3, replace=False)
    keep = ~np.isin(src, isolated) & ~np.isin(dst, isolated)
    src, dst = src[keep], dst[keep]
    loops = rng.choice(sources, 5)
    src = np.concatenate([src, loops, src[:20]])  # self-loops and duplicate rows
    dst = np.concatenate([dst, loops, dst[:20]])
    weight = rng.random(src.size) * 3
    weight[rng.random(src.size) < 0.05] = 0.0  # zero-weight rows are legal
    return {"n": n, "src": src, "dst": dst, "weight": weight, "rng_seed": seed}


def l1(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).sum())


@pytest.mark.parametrize("seed", range(6))
def test_uniform_weights_match_networkx_on_random_graphs(seed: int, reference: Reference) -> None:
    g = random_graph(seed)
    ours = pagerank(g["n"], g["src"], g["dst"], tol=TIGHT_TOL)
    assert l1(ours.scores, reference(g["n"], g["src"], g["dst"])) <= L1


@pytest.mark.parametrize("seed", range(6))
def test_weighted_personalized_dangling_runs_match_networkx(
    seed: int, reference: Reference
) -> None:
    g = random_graph(seed)
    rng = np.random.default_rng(100 + seed)
    n = g["n"]
    personalization = rng.random(n) * (rng.random(n) < 0.3)
    personalization[0] = 1.0
    dangling = rng.random(n)
    for kwargs in (
        {},
        {"personalization": personalization},
        {"personalization": personalization, "dangling": dangling},
        {"dangling": dangling, "alpha": 0.7},
    ):
        ours = pagerank(n, g["src"], g["dst"], g["weight"], tol=TIGHT_TOL, **kwargs)
        theirs = reference(n, g["src"], g["dst"], g["weight"], **kwargs)
        assert l1(ours.scores, theirs) <= L1, kwargs


@pytest.mark.parametrize("seed", range(4))
def test_evaporation_matches_networkx_with_a_sink_node(seed: int, reference: Reference) -> None:
    g = random_graph(seed)
    rng = np.random.default_rng(200 + seed)
    evaporation = rng.random(g["n"]) * (rng.random(g["n"]) < 0.4)
    ours = pagerank(g["n"], g["src"], g["dst"], g["weight"], evaporation=evaporation, tol=TIGHT_TOL)
    theirs = reference(g["n"], g["src"], g["dst"], g["weight"], evaporation=evaporation)
    assert l1(ours.scores, theirs) <= L1
    assert ours.scores.sum() < 1.0  # evaporated equity is gone, not redistributed


def test_duplicate_rows_are_summed_like_a_multidigraph(reference: Reference) -> None:
    src = np.array([0, 0, 0, 1, 2])
    dst = np.array([1, 1, 2, 2, 0])
    weight = np.array([1.0, 2.0, 1.0, 1.0, 1.0])
    repeated = pagerank(3, src, dst, weight, tol=TIGHT_TOL).scores
    summed = pagerank(3, src[1:], dst[1:], np.array([3.0, 1.0, 1.0, 1.0]), tol=TIGHT_TOL).scores
    assert l1(repeated, summed) <= 1e-14
    assert l1(repeated, reference(3, src, dst, weight)) <= L1
    # A networkx DiGraph would keep only the last weight (2.0) of 0->1 and rank 1 lower.
    last_wins = pagerank(3, src[1:], dst[1:], np.array([2.0, 1.0, 1.0, 1.0]), tol=TIGHT_TOL)
    assert repeated[1] > last_wins.scores[1]


def test_hand_built_graph_matches_networkx_and_hand_arithmetic(reference: Reference) -> None:
    # 0 -> 1, 0 -> 2, 1 -> 2, 2 -> 0, 2 -> 3; 3 dangling, 4 isolated.
    src = np.array([0, 0, 1, 2, 2])
    dst = np.array([1, 2, 2, 0, 3])
    ours = pagerank(5, src, dst, tol=TIGHT_TOL).scores
    assert l1(ours, reference(5, src, dst)) <= L1
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)
    assert ours[3] == pytest.approx(ours[4] + 0.85 * ours[2] / 2, rel=1e-9)


def test_graphs_without_edges_or_nodes_are_fine(reference: Reference) -> None:
    empty = np.array([], dtype=np.int64)
    assert pagerank(0, empty, empty).scores.size == 0
    alone = pagerank(4, empty, empty, tol=TIGHT_TOL)
    assert np.allclose(alone.scores, 0.25)
    assert l1(alone.scores, reference(4, empty, empty)) <= L1


def test_default_tolerance_is_per_node_not_networkx_default() -> None:
    g = random_graph(1, n=2000, m=20_000)
    result = pagerank(g["n"], g["src"], g["dst"])
    assert result.converged
    assert result.tol_l1 == pytest.approx(1e-6)  # 1e-6 / n per node, whatever n
    assert result.error < 1e-6
    exact = pagerank(g["n"], g["src"], g["dst"], tol=TIGHT_TOL).scores
    assert l1(result.scores, exact) <= result.error_bound


def test_running_out_of_iterations_raises_with_the_last_iterate() -> None:
    g = random_graph(2)
    with pytest.raises(PageRankNotConverged) as caught:
        pagerank(g["n"], g["src"], g["dst"], tol=TIGHT_TOL, max_iter=3)
    assert caught.value.result.iterations == 3
    assert not caught.value.result.converged


def test_threaded_row_blocks_give_the_single_thread_result() -> None:
    g = random_graph(3, n=3000, m=40_000)
    one = pagerank(g["n"], g["src"], g["dst"], g["weight"], tol=TIGHT_TOL, threads=1)
    three = pagerank(g["n"], g["src"], g["dst"], g["weight"], tol=TIGHT_TOL, threads=3)
    assert one.iterations == three.iterations
    assert l1(one.scores, three.scores) <= 1e-14


def test_one_structure_serves_several_weightings() -> None:
    g = random_graph(4)
    graph = TransposedGraph.build(g["n"], g["src"], g["dst"], keep_order=True)
    for weight in (None, g["weight"], np.ones(g["src"].size) * 2):
        sorted_weight = None if weight is None else graph.permute(weight)
        shared = graph.pagerank(sorted_weight, tol=TIGHT_TOL).scores
        fresh = pagerank(g["n"], g["src"], g["dst"], weight, tol=TIGHT_TOL).scores
        assert l1(shared, fresh) <= 1e-14


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"src": np.array([0, 5]), "dst": np.array([1, 1])}, ValueError),
        ({"src": np.array([0, -1]), "dst": np.array([1, 1])}, ValueError),
        ({"src": np.array([0.0]), "dst": np.array([1])}, TypeError),
        ({"weight": np.array([1.0, -1.0])}, ValueError),
        ({"weight": np.array([1.0, np.nan])}, ValueError),
        ({"personalization": np.zeros(3)}, ValueError),
        ({"alpha": 1.0}, ValueError),
    ],
)
def test_bad_input_is_refused(kwargs: dict, error: type[Exception]) -> None:
    args = {"src": np.array([0, 1]), "dst": np.array([1, 2])} | kwargs
    with pytest.raises(error):
        pagerank(3, **args)


def test_link_score_is_monotone_log_scaled_with_top_100() -> None:
    rng = np.random.default_rng(7)
    scores = rng.pareto(1.5, 500) + 1e-4
    scores /= scores.sum()
    score = link_score(scores)
    order = np.argsort(scores)
    assert score.max() == pytest.approx(100.0)
    assert score[np.argmax(scores)] == pytest.approx(100.0)
    assert np.all(np.diff(score[order]) >= 0)
    assert score.min() >= 0
    # n * pr is the rank relative to the average page: an average page (n * pr = 1) scores
    # 100 * log(2) / log1p(n * max pr), and the scale is logarithmic above it.
    ranks = np.array([1.0, 10.0, 100.0, 1000.0, 1000.0]) / 5
    assert link_score(ranks)[0] == pytest.approx(100 * np.log(2) / np.log1p(1000.0))
    assert link_score(ranks)[2] == pytest.approx(100 * np.log1p(100.0) / np.log1p(1000.0))
    assert np.array_equal(link_score(np.zeros(3)), np.zeros(3))


def test_a_warm_start_saves_iterations_but_not_changes_the_result(reference: Reference) -> None:
    g = random_graph(5)
    rng = np.random.default_rng(9)
    evaporation = rng.random(g["n"]) * (rng.random(g["n"]) < 0.5)
    cold = pagerank(g["n"], g["src"], g["dst"], evaporation=evaporation, tol=TIGHT_TOL)
    warm = pagerank(
        g["n"], g["src"], g["dst"], evaporation=evaporation, nstart=cold.scores, tol=TIGHT_TOL
    )
    assert warm.iterations < cold.iterations
    assert l1(warm.scores, cold.scores) <= 1e-12
    assert l1(cold.scores, reference(g["n"], g["src"], g["dst"], evaporation=evaporation)) <= L1


def test_public_scipy_fallbacks_give_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    import linking.graph as graph_module

    g = random_graph(8, n=400, m=5000)
    fast = pagerank(g["n"], g["src"], g["dst"], g["weight"], tol=TIGHT_TOL, threads=2)
    monkeypatch.setattr(graph_module, "_coo_tocsr", None)
    monkeypatch.setattr(graph_module, "_csr_matvec", None)
    slow = pagerank(g["n"], g["src"], g["dst"], g["weight"], tol=TIGHT_TOL, threads=2)
    assert l1(fast.scores, slow.scores) <= 1e-14


@pytest.mark.parametrize("segments", [2, 3, 7])
@pytest.mark.parametrize("threads", [1, 3])
def test_cache_blocked_segments_give_the_plain_result(segments: int, threads: int) -> None:
    g = random_graph(6, n=500, m=6000)
    plain = pagerank(g["n"], g["src"], g["dst"], g["weight"], tol=TIGHT_TOL, threads=1)
    graph = TransposedGraph.build(g["n"], g["src"], g["dst"], keep_order=True, segments=segments)
    assert graph.indptr.size == segments * g["n"] + 1
    blocked = graph.pagerank(graph.permute(g["weight"]), tol=TIGHT_TOL, threads=threads)
    assert l1(plain.scores, blocked.scores) <= 1e-14


def test_cache_blocked_segments_without_private_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    import linking.graph as graph_module

    g = random_graph(7, n=300, m=3000)
    plain = pagerank(g["n"], g["src"], g["dst"], tol=TIGHT_TOL)
    monkeypatch.setattr(graph_module, "_coo_tocsr", None)
    monkeypatch.setattr(graph_module, "_csr_matvec", None)
    graph = TransposedGraph.build(g["n"], g["src"], g["dst"], keep_order=False, segments=4)
    assert l1(plain.scores, graph.pagerank(tol=TIGHT_TOL).scores) <= 1e-14


@pytest.mark.parametrize("presorted", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_segmented_build_is_a_stable_sort_by_source_range_then_target(
    monkeypatch: pytest.MonkeyPatch, presorted: bool, weighted: bool
) -> None:
    """Both build paths (edges already ordered by source: sliced; otherwise: partitioned), on
    parallel threads, against a stable argsort of the stacked row ids."""
    import linking.graph as graph_module

    monkeypatch.setattr(graph_module, "_THREADED_MIN_EDGES", 0)  # threads even on a small graph
    g = random_graph(9, n=300, m=4000)
    src, dst, weight = g["src"], g["dst"], g["weight"]
    if presorted:
        by_source = np.argsort(src, kind="stable")
        src, dst, weight = src[by_source], dst[by_source], weight[by_source]
    segments = 3
    graph = TransposedGraph.build(
        300, src, dst, keep_order=True, segments=segments, edge_values=weight if weighted else None
    )
    row = src // -(-300 // segments) * 300 + dst
    expected = np.argsort(row, kind="stable")
    assert np.array_equal(graph.order, expected)
    assert np.array_equal(graph.sources, src[expected])
    counts = np.bincount(row, minlength=segments * 300)
    assert np.array_equal(graph.indptr, np.concatenate(([0], np.cumsum(counts))))
    if weighted:
        assert np.array_equal(graph.sorted_values, weight[expected])
