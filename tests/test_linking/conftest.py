"""networkx as the reference PageRank: every score linking.graph computes is checked against it."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest

TIGHT_TOL = 1e-15  # per node, for both engines: L1 changes ~1e-13 on test-sized graphs

Reference = Callable[..., np.ndarray]


def networkx_pagerank(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    alpha: float = 0.85,
    personalization: np.ndarray | None = None,
    dangling: np.ndarray | None = None,
    evaporation: np.ndarray | None = None,
) -> np.ndarray:
    """networkx.pagerank on a MultiDiGraph (parallel edges summed), nodes 0..n-1.

    Evaporation is modelled the way networkx can express it: one extra sink node that only links
    to itself, receives each page's evaporating weight, and gets no teleport and no dangling
    mass. Its rank never flows back, so the other nodes' fixed point is exactly "counts in the
    divisor, passes nothing".
    """
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    weights = np.ones(len(src)) if weight is None else np.asarray(weight, dtype=float)
    graph.add_weighted_edges_from(
        (int(s), int(d), float(w)) for s, d, w in zip(src, dst, weights, strict=True)
    )
    uses_sink = evaporation is not None and np.any(np.asarray(evaporation) > 0)
    if uses_sink:
        sink = n
        graph.add_node(sink)
        graph.add_edge(sink, sink, weight=1.0)
        graph.add_weighted_edges_from(
            (i, sink, float(e)) for i, e in enumerate(evaporation) if e > 0
        )
    p = np.ones(n) if personalization is None else np.asarray(personalization, dtype=float)
    pers = (
        {i: float(p[i]) for i in range(n)} if (uses_sink or personalization is not None) else None
    )
    dang = None if dangling is None else {i: float(dangling[i]) for i in range(n)}
    scores = nx.pagerank(
        graph,
        alpha=alpha,
        personalization=pers,
        dangling=dang,
        weight="weight",
        tol=TIGHT_TOL,
        max_iter=10_000,
    )
    return np.array([scores[i] for i in range(n)])


@pytest.fixture
def reference() -> Reference:
    return networkx_pagerank
