"""PageRank for link equity: one sparse power iteration and the variants the warehouse writes.

Plain library (no Dagster): usable from a notebook, called by the warehouse's PageRank asset.

Core: `pagerank(n, src, dst, weight)` is networkx's `pagerank` (same fixed point, same dangling
rule) on integer edge arrays, without Python objects per edge. It builds the *transposed*
transition matrix as a scipy CSR (one linear counting sort, `coo_tocsr`, no index sorting) so each
iteration is a gather `y = A^T x`, split over row blocks run in threads (scipy releases the GIL).

Semantics, all checked against `networkx.pagerank` in tests/test_linking:

* Weights are row-normalized: a page passes `alpha * rank * w / sum(w of its out-edges)` along
  each edge. Repeated (src, dst) rows are **summed**, like a networkx MultiDiGraph (a DiGraph would
  keep only the last weight). The dbt layer deduplicates edges; summing is the only rule under
  which a repeated row cannot silently change a score. Self-loops are kept, as networkx does (dbt
  drops self-links upstream).
* Dangling pages (no out-weight) hand their rank to the `dangling` vector, or to the
  personalization vector when none is given, or to the uniform vector: networkx's rule.
* `evaporation[i]` is out-weight of page i that goes nowhere: it counts in the divisor and passes
  nothing (nofollow "evaporation", links to pages outside the graph). A page whose only links
  evaporate is not dangling: its equity is lost, not redistributed. Ranks then sum to less than 1.
  (networkx reproduces this exactly with one extra sink node that only links to itself.)
* Stopping rule: the L1 change of the rank vector between two iterations is below `n * tol`
  (networkx's rule, so `tol` means the same in both) but the default `tol` is **1e-6 / n**, i.e.
  an L1 change below 1e-6 whatever the size. networkx's default `tol=1e-6` stops a 1M-page graph
  after 2 iterations with errors up to 168% (ARCHITECTURE.md, "PageRank convergence"). Since one
  iteration contracts the error by at least `alpha` in L1, the distance to the fixed point is at
  most `error * alpha / (1 - alpha)` (~5.7x the last change at alpha 0.85).

Variants: `compute_link_equity(nodes, edges, settings)` computes, from one node table and one edge
table, a ladder of scores where each rung changes one thing (so their differences explain
themselves):

* `pagerank_raw`: Screaming Frog "Link Score" graph. Only eligible pages (`is_eligible`: 200,
  HTML, not a redirect, not canonicalised to another URL; decided by dbt) and only followed links
  between eligible pages; every link row weighs 1 (the policy `weight` is ignored); everything
  else is dropped, as if it did not exist. Uniform teleport.
* `pagerank_weighted`: reasonable surfer on the same graph: each link weighs
  `position_weights[position]` (content 1.0, breadcrumb 0.6, sidebar 0.5, nav 0.3, header 0.3,
  footer 0.1), times `boilerplate_factor` (0.5) when the same (target, position) is linked from
  more than `boilerplate_share` (half) of the source pages (eligible pages with at least one link
  of any kind; a page repeating the link counts once; strictly more than half).
* `pagerank_policy`: the warehouse's policy graph: the weighted variant times the dbt `weight`
  (redirect retention 0.9^hops...), and links that carry no equity now *evaporate* from their
  eligible source instead of being ignored: nofollow links (`settings.nofollow`) and links to
  ineligible pages such as 404s or redirects dbt could not fold (`settings.links_to_ineligible`).
  Set both to "drop" to ignore them as the raw graph does. `nofollow = "follow"` counts every
  edge as followed, in every variant (raw included). dbt keeps nofollow links in the edge model
  (`is_followed` false) whatever the policy: this setting is the only place it is decided.
* `pagerank_tipr`: the policy graph with a personalized teleport (TIPR, Kevin Indig):
  `tipr_mix * log1p(referring_domains) / sum + (1 - tipr_mix) / n_eligible`; uniform when no page
  has backlinks. Dangling pages also follow it (networkx's rule for personalization).
* `link_score`: 0-100 log scale of `settings.link_score_variant` (policy by default):
  `100 * log1p(n * pr) / log1p(n * max(pr))` with n the number of eligible pages, so the top
  page is 100, a page at the average rank (n * pr = 1) scores `100 * log(2) / log1p(n * max)`, and
  the order of pages is the order of their PageRank.
* `is_hoarder` (TIPR): TIPR at or above its `hoarder_min_tipr_quantile` (0.9) quantile and at most
  `hoarder_max_outlinks_ratio` (0.5) x the median outlinks: much equity, passes little on.
  `is_waster`: TIPR at or below its `waster_max_tipr_quantile` (0.5) quantile and at least
  `max(1, waster_min_outlinks_ratio (2.0) x median outlinks)`: little equity, spread thin.
  Quantiles and the median are taken over eligible pages; outlinks are the page's edge rows (any
  target, any follow status: everything that divides its equity).

Input contract of `compute_link_equity`:

* nodes (one row per page, `url_key` unique): `url_key` string (required); `is_eligible` bool
  (missing column: every page eligible; null: not eligible); `referring_domains` integer >= 0
  (`n_referring_domains` is accepted as an alias; missing or null: 0).
* edges (one row per link; rows may repeat and are then summed): `source_key`, `target_key`
  strings (required), or instead integer `source_id`, `target_id` = 0-based row numbers in
  `nodes` (null or -1: unknown page), which is what `linking.pagerank_io.land_link_equity` asks
  DuckDB for so no string is hashed in Python; `position` string or dictionary (null, missing or
  not in `position_weights`: `unknown_position_weight`); `weight` float >= 0 (null or missing:
  1.0); `is_followed` bool (null or missing: true). Edges whose pages are not in `nodes` are
  dropped and counted in the stats.

Output (`EquityResult.table`, one row per node, node order): `url_key`, `pagerank_raw`,
`pagerank_weighted`, `pagerank_tipr`, `pagerank_policy`, `link_score` (float64, null for
ineligible pages), `is_hoarder`, `is_waster` (bool, null for ineligible pages), `inlinks`,
`outlinks` (int64: edge rows into / out of the page whose both ends are known, any follow status).
`EquityResult.runs` holds iterations, final error and time per variant.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

try:  # Private but stable for a decade; public fallbacks below keep us working without them.
    from scipy.sparse._sparsetools import coo_tocsr as _coo_tocsr
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover - depends on the scipy build
    _coo_tocsr = None
    _csr_matvec = None

__all__ = [
    "DEFAULT_POSITION_WEIGHTS",
    "OUTPUT_SCHEMA",
    "EquityResult",
    "PageRankNotConverged",
    "PageRankResult",
    "PageRankSettings",
    "TransposedGraph",
    "VARIANTS",
    "VariantRun",
    "compute_link_equity",
    "hoarders_and_wasters",
    "link_score",
    "pagerank",
    "read_edges",
    "read_nodes",
    "tipr_teleport",
]

DEFAULT_ALPHA = 0.85
DEFAULT_TOL_L1 = 1e-6  # default tol is DEFAULT_TOL_L1 / n per node, i.e. this L1 change overall
DEFAULT_MAX_ITER = 1000
# Below this many edges a single A @ x is faster than dispatching row blocks to threads, and
# the rank vector fits in the cache anyway.
_THREADED_MIN_EDGES = 500_000
SEGMENT_BYTES = 2 << 20  # rank bytes per source range of the cache-blocked product

DEFAULT_POSITION_WEIGHTS: Mapping[str, float] = {
    "content": 1.0,
    "breadcrumb": 0.6,
    "sidebar": 0.5,
    "nav": 0.3,
    "header": 0.3,
    "footer": 0.1,
}

VARIANTS = ("raw", "weighted", "policy", "tipr")


# --------------------------------------------------------------------------------------------
# Core power iteration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRankResult:
    """Scores (float64, node order) and how the iteration ended."""

    scores: np.ndarray
    iterations: int
    error: float  # L1 change of the last iteration
    tol_l1: float  # the threshold `error` had to go under: n * tol
    converged: bool
    alpha: float = DEFAULT_ALPHA

    @property
    def error_bound(self) -> float:
        """Upper bound of the L1 distance to the exact fixed point: error * alpha / (1 - alpha).

        Each iteration is a contraction by alpha in L1, so the remaining distance is at most the
        geometric tail of the last change.
        """
        return self.error * self.alpha / (1 - self.alpha)


class PageRankNotConverged(RuntimeError):
    """max_iter reached before the tolerance; `.result` holds the last iterate."""

    def __init__(self, result: PageRankResult) -> None:
        super().__init__(
            f"PageRank did not converge in {result.iterations} iterations "
            f"(L1 change {result.error:.3g} >= {result.tol_l1:.3g})"
        )
        self.result = result


def pagerank(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    alpha: float = DEFAULT_ALPHA,
    personalization: np.ndarray | None = None,
    dangling: np.ndarray | None = None,
    evaporation: np.ndarray | None = None,
    nstart: np.ndarray | None = None,
    tol: float | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
    threads: int | None = None,
) -> PageRankResult:
    """networkx.pagerank on integer edge arrays: nodes are 0..n-1, edge k goes src[k] -> dst[k].

    `weight` (per edge, >= 0; repeated rows are summed), `personalization`, `dangling` and
    `evaporation` (per node) are optional; the module docstring gives their exact meaning.
    `nstart` is a starting vector (normalized like networkx's, e.g. a previous run's scores): it
    changes the number of iterations, not the result. `tol` is per node (stop when the L1 change
    < n * tol), default 1e-6 / n. Raises PageRankNotConverged after `max_iter` iterations.
    """
    graph = TransposedGraph.build(n, src, dst, keep_order=False, edge_values=weight)
    return graph.pagerank(
        graph.sorted_values,
        alpha=alpha,
        personalization=personalization,
        dangling=dangling,
        evaporation=evaporation,
        nstart=nstart,
        tol=tol,
        max_iter=max_iter,
        threads=threads,
    )


@dataclass
class TransposedGraph:
    """The edge list as a CSR of the transposed graph: row t lists the sources linking to t.

    Cache blocking: the sources are split into `segments` ranges, and the CSR holds one block of
    n rows per range (row t of segment k is row k * n + t). A product then reads `x` one range
    at a time: each range (about 2 MB of float64) stays in the CPU cache while its edges stream
    by, instead of every edge missing the cache at a random source. At 1M pages this made the
    product 2-3x faster on this machine; small graphs use one segment (the plain CSR).

    Built once per edge set and reused for every weighting of it (the variants share one
    structure). `order[k]` is the input row of the k-th stored edge when `keep_order` was asked,
    so per-edge values can be laid out with `permute` without another sort.
    """

    n: int
    indptr: np.ndarray  # segments * n + 1 offsets
    sources: np.ndarray
    segments: int = 1
    order: np.ndarray | None = None
    sorted_values: np.ndarray | None = None  # edge_values passed to build, in CSR order

    @property
    def n_edges(self) -> int:
        return int(self.sources.shape[0])

    @classmethod
    def build(
        cls,
        n: int,
        src: np.ndarray,
        dst: np.ndarray,
        *,
        keep_order: bool,
        edge_values: np.ndarray | None = None,
        segments: int | None = None,
    ) -> TransposedGraph:
        """Counting-sort the edges by (source range, target) in O(n + m); duplicates are kept."""
        src, dst = _check_edges(n, src, dst)
        m = src.shape[0]
        segments = _segment_count(n, m) if segments is None else max(1, int(segments))
        index_dtype = np.int32 if max(segments * n, m) < 2**31 - 1 else np.int64
        src = np.ascontiguousarray(src, dtype=index_dtype)
        dst = np.ascontiguousarray(dst, dtype=index_dtype)
        if edge_values is not None:
            edge_values = _check_edge_weights(edge_values, m)
        # One sort carries one array: the input row numbers when the order is kept (values then
        # follow by a gather), else the values themselves, else nothing.
        carried = np.arange(m, dtype=index_dtype) if keep_order else edge_values
        indptr, sources, moved = _segmented_csr(n, segments, src, dst, carried)
        if not keep_order:
            order, sorted_values = None, moved
        else:
            order = moved
            sorted_values = None if edge_values is None else edge_values[order]
        return cls(
            n=n,
            indptr=indptr,
            sources=sources,
            segments=segments,
            order=order,
            sorted_values=sorted_values,
        )

    def permute(self, values: np.ndarray) -> np.ndarray:
        """Per-edge values (input row order) laid out in the CSR's edge order."""
        if self.order is None:
            raise ValueError("built with keep_order=False")
        return np.asarray(values)[self.order]

    def out_weight(self, sorted_weight: np.ndarray | None) -> np.ndarray:
        """Sum of out-edge weights per node (float64), duplicates and self-loops included.

        Computed from the stored edges, so the caller may free its own edge arrays once built.
        """
        if sorted_weight is None:
            return np.bincount(self.sources, minlength=self.n).astype(np.float64)
        out = np.bincount(self.sources, weights=sorted_weight, minlength=self.n)
        return out.astype(np.float64, copy=False)  # an empty bincount is int64 even with weights

    def transition(
        self,
        sorted_weight: np.ndarray | None,
        out_weight: np.ndarray,
        alpha: float,
    ) -> sp.csr_array:
        """alpha * P^T where P[s, t] = w(s, t) / out_weight[s] (0 for pages with no out-weight)."""
        inverse = np.zeros(self.n, dtype=np.float64)
        linked = out_weight > 0
        inverse[linked] = alpha / out_weight[linked]
        data = inverse[self.sources]  # one gather, in CSR order
        if sorted_weight is not None:
            data *= sorted_weight
        shape = (self.segments * self.n, self.n)
        return sp.csr_array((data, self.sources, self.indptr), shape=shape)

    def pagerank(
        self,
        sorted_weight: np.ndarray | None = None,
        *,
        alpha: float = DEFAULT_ALPHA,
        personalization: np.ndarray | None = None,
        dangling: np.ndarray | None = None,
        evaporation: np.ndarray | None = None,
        nstart: np.ndarray | None = None,
        tol: float | None = None,
        max_iter: int = DEFAULT_MAX_ITER,
        threads: int | None = None,
    ) -> PageRankResult:
        """Power iteration on this structure; `sorted_weight` is per edge in CSR order (`permute`).

        Same parameters and semantics as the module-level `pagerank`.
        """
        n = self.n
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if n == 0:
            return PageRankResult(np.zeros(0), 0, 0.0, 0.0, True)
        teleport = _probability_vector(personalization, n, "personalization")
        dangling_to = teleport if dangling is None else _probability_vector(dangling, n, "dangling")
        start = _probability_vector(nstart, n, "nstart")
        divisor = self.out_weight(sorted_weight)
        if evaporation is not None:
            evaporation = _check_node_vector(evaporation, n, "evaporation")
            start *= _expected_mass(start, divisor, evaporation, alpha)
            divisor += evaporation
        matrix = self.transition(sorted_weight, divisor, alpha)
        dangling_nodes = np.flatnonzero(divisor <= 0)
        tol_l1 = n * (DEFAULT_TOL_L1 / n if tol is None else float(tol))
        with _Matvec(matrix, self.segments, _thread_count(threads, self.n_edges)) as matvec:
            return _power_iterate(
                matvec, start, alpha, teleport, dangling_to, dangling_nodes, tol_l1, max_iter
            )


def _expected_mass(
    start: np.ndarray, out_weight: np.ndarray, evaporation: np.ndarray, alpha: float
) -> float:
    """Total rank the fixed point will have if it evaporates like `start` does.

    With evaporation the ranks sum to S < 1, and starting from a vector summing to 1 leaves an
    error in the total mass that shrinks only by ~alpha per iteration: policy runs took 4-5x the
    iterations of the others. If a share c of the mass sits on evaporating out-weight, one step
    maps S to alpha (1 - c) S + (1 - alpha), whose fixed point is the S returned here. Scaling the
    start by it removes most of that slow error; the fixed point itself does not depend on the
    start.
    """
    divisor = out_weight + evaporation
    share = np.divide(evaporation, divisor, out=np.zeros_like(divisor), where=divisor > 0)
    lost = float(start @ share)
    return (1.0 - alpha) / (1.0 - alpha * (1.0 - lost))


def _power_iterate(
    matvec: _Matvec,
    start: np.ndarray,
    alpha: float,
    teleport: np.ndarray,
    dangling_to: np.ndarray,
    dangling_nodes: np.ndarray,
    tol_l1: float,
    max_iter: int,
) -> PageRankResult:
    """x <- alpha (P^T x + dangling mass * d) + (1 - alpha) p, as networkx does (start 1/n)."""
    x = start
    y = np.empty_like(start)
    base = (1.0 - alpha) * teleport
    error = math.inf
    for iteration in range(1, max_iter + 1):
        dangling_mass = float(x[dangling_nodes].sum()) if dangling_nodes.size else 0.0
        if dangling_mass:
            np.multiply(dangling_to, alpha * dangling_mass, out=y)
            y += base
        else:
            y[:] = base
        matvec(x, y)  # y += alpha P^T x
        error = float(np.abs(y - x).sum())
        x, y = y, x
        if error < tol_l1:
            return PageRankResult(x, iteration, error, tol_l1, True, alpha)
    raise PageRankNotConverged(PageRankResult(x, max_iter, error, tol_l1, False, alpha))


class _Matvec:
    """y += A @ x, A stacked as `segments` blocks of n rows (see TransposedGraph).

    Threads take contiguous row ranges of about equal edge counts and walk the segments in the
    same order, so they read the same slice of x at the same time; scipy's csr_matvec releases
    the GIL, accumulates onto y, and indexes the shared indices/data arrays through absolute
    offsets, so no block is ever copied.
    """

    def __init__(self, matrix: sp.csr_array, segments: int, threads: int) -> None:
        self.matrix = matrix
        self.segments = segments
        self.n = matrix.shape[1]
        self.pool: ThreadPoolExecutor | None = None
        self.ranges = [(0, self.n)]
        if _csr_matvec is not None and threads > 1:
            self.ranges = _row_ranges(matrix.indptr, self.n, segments, threads)
        if len(self.ranges) > 1:
            self.pool = ThreadPoolExecutor(max_workers=len(self.ranges))

    def __enter__(self) -> _Matvec:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> None:
        if _csr_matvec is None:  # public API: one product, then fold the segments
            y += (self.matrix @ x).reshape(self.segments, self.n).sum(axis=0)
            return
        if self.pool is None:
            self._rows(x, y, 0, self.n)
            return
        futures = [self.pool.submit(self._rows, x, y, a, b) for a, b in self.ranges]
        for future in futures:
            future.result()

    def _rows(self, x: np.ndarray, y: np.ndarray, start: int, stop: int) -> None:
        indptr, indices, data = self.matrix.indptr, self.matrix.indices, self.matrix.data
        out = y[start:stop]
        for k in range(self.segments):
            offsets = indptr[k * self.n + start : k * self.n + stop + 1]
            _csr_matvec(stop - start, self.n, offsets, indices, data, x, out)


def _row_ranges(indptr: np.ndarray, n: int, segments: int, parts: int) -> list[tuple[int, int]]:
    """Split rows 0..n-1 into `parts` ranges with about equal edges summed over all segments."""
    counts = np.zeros(n, dtype=np.int64)
    for k in range(segments):
        counts += np.diff(indptr[k * n : (k + 1) * n + 1])
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1]) if n else 0
    cuts = np.searchsorted(cumulative, np.linspace(0, total, parts + 1)[1:-1]).tolist()
    bounds = sorted({0, *cuts, n})
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _segment_count(n: int, m: int) -> int:
    """Source ranges of about SEGMENT_BYTES of rank each; one for small or very sparse graphs.

    Each segment costs a pass over n row offsets, so there are at most m / 4n of them (the
    offsets then stay under a quarter of the edge work). At 1M pages / 30M links: 4 segments,
    which measured 2.7x faster per iteration than one (141 vs 403 ms of CPU); 16 or 64 were
    slower again.
    """
    if m < _THREADED_MIN_EDGES or n == 0:
        return 1
    wanted = -(-(n * 8) // SEGMENT_BYTES)
    return max(1, min(wanted, m // (4 * n)))


def _thread_count(threads: int | None, n_edges: int) -> int:
    if threads is not None:
        return max(1, int(threads))
    if n_edges < _THREADED_MIN_EDGES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _coo_to_csr(
    n_rows: int, n_cols: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(indptr, cols, values) grouped by row, stable within a row, duplicates kept: O(n + m).

    scipy's public `coo_array.tocsr()` would also sort every row and sum duplicates, which costs
    more than the whole iteration at 30M edges and is unnecessary: a CSR product sums duplicate
    entries by itself.
    """
    m = rows.shape[0]
    if _coo_tocsr is None:  # pragma: no cover - fallback: a stable argsort does the same
        order = np.argsort(rows, kind="stable")
        indptr = np.zeros(n_rows + 1, dtype=rows.dtype)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        return indptr, cols[order], None if values is None else values[order]
    indptr = np.empty(n_rows + 1, dtype=rows.dtype)
    out_cols = np.empty(m, dtype=rows.dtype)
    if values is None:  # coo_tocsr wants m values: carry the first m bytes of the row ids
        carried, out_values = rows.view(np.int8)[:m], np.empty(m, dtype=np.int8)
    else:
        carried, out_values = values, np.empty(m, dtype=values.dtype)
    _coo_tocsr(n_rows, n_cols, m, rows, cols, carried, indptr, out_cols, out_values)
    return indptr, out_cols, None if values is None else out_values


def _segmented_csr(
    n: int, segments: int, src: np.ndarray, dst: np.ndarray, carried: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The stacked transposed CSR (row k * n + t lists the sources in range k linking to t).

    One counting sort per source range rather than one over all segments * n rows: each sort's
    counters (n offsets) stay closer to the cache, and scipy's coo_tocsr releases the GIL, so the
    ranges are sorted on parallel threads (1.5 s -> 0.6 s at 1M pages / 30M links on 2 cores).
    Edges already grouped by source range (edge lists come ordered by source) are sliced in
    place; otherwise each range is gathered with a stable mask, so rows stay in input order.
    `carried` (per-edge values) comes back in CSR order; None carries nothing.
    """
    m = src.shape[0]
    if segments == 1:
        return _coo_to_csr(n, n, dst, src, carried)
    width = -(-n // segments)
    starts = np.zeros(segments + 1, dtype=np.int64)
    if _is_sorted(src):  # range k is a slice: find its bounds, touch nothing else
        starts[1:-1] = np.searchsorted(src, np.arange(1, segments) * width)
        starts[-1] = m
    else:
        src, dst, carried = _group_by_segment(width, segments, starts, src, dst, carried)
    indptr = np.empty(segments * n + 1, dtype=src.dtype)
    indptr[-1] = m
    sources = np.empty(m, dtype=src.dtype)
    moved = None if carried is None else np.empty(m, dtype=carried.dtype)

    scratch = np.empty(m if carried is None else 0, dtype=np.int8)  # carried nothing

    def sort_range(k: int) -> None:
        a, b = int(starts[k]), int(starts[k + 1])
        local_indptr = np.empty(n + 1, dtype=src.dtype)
        if _coo_tocsr is None:  # pragma: no cover - depends on the scipy build
            part = None if carried is None else carried[a:b]
            local_indptr, sources[a:b], local_moved = _coo_to_csr(n, n, dst[a:b], src[a:b], part)
            if moved is not None:
                moved[a:b] = local_moved
        elif carried is None:  # sorted straight into the final arrays, no copies
            values = src.view(np.int8)[a:b]  # any b - a bytes: nothing is carried
            _coo_tocsr(
                n, n, b - a, dst[a:b], src[a:b], values, local_indptr, sources[a:b], scratch[a:b]
            )
        else:
            _coo_tocsr(
                n,
                n,
                b - a,
                dst[a:b],
                src[a:b],
                carried[a:b],
                local_indptr,
                sources[a:b],
                moved[a:b],
            )
        rows = indptr[k * n : (k + 1) * n]
        rows[:] = local_indptr[:-1]
        rows += a

    run_parallel(sort_range, range(segments), min(segments, _thread_count(None, m)))
    return indptr, sources, moved


def run_parallel(work: Callable[[int], None], items: Iterable[int], threads: int) -> None:
    """`work(item)` for every item on up to `threads` threads, inline when one: worth it only
    because the numpy, scipy and pyarrow kernels the callers run release the GIL. The first
    exception is raised here."""
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(work, items))
    else:
        for item in items:
            work(item)


def _is_sorted(values: np.ndarray, block: int = 1 << 20) -> bool:
    """Non-decreasing, checked in blocks: a whole-array comparison would fault in a fresh
    m-byte temporary (~2 ms per MB on this VM) to answer a yes/no question."""
    for a in range(0, max(values.shape[0] - 1, 0), block):
        b = min(a + block + 1, values.shape[0])
        if (values[a + 1 : b] < values[a : b - 1]).any():
            return False
    return True


def _group_by_segment(
    width: int,
    segments: int,
    starts: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    carried: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Stable partition of the edges by source range, filling `starts`: one mask per range and
    no argsort (an int64 permutation of 30M edges would cost 240 MB)."""
    segment = np.empty(src.shape[0], dtype=np.int8 if segments < 128 else np.int32)
    np.floor_divide(src, width, out=segment, casting="unsafe")
    arrays = [src, dst] + ([carried] if carried is not None else [])
    grouped = [np.empty_like(values) for values in arrays]
    for k in range(segments):
        mask = segment == k
        starts[k + 1] = starts[k] + np.count_nonzero(mask)
        a, b = int(starts[k]), int(starts[k + 1])
        for values, out in zip(arrays, grouped, strict=True):
            np.compress(mask, values, out=out[a:b])
    return grouped[0], grouped[1], grouped[2] if carried is not None else None


def _check_edges(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    src = np.asarray(src)
    dst = np.asarray(dst)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if src.shape != dst.shape or src.ndim != 1:
        raise ValueError("src and dst must be 1-D arrays of the same length")
    for name, ids in (("src", src), ("dst", dst)):
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{name} must hold integer node ids, got {ids.dtype}")
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= n):
            raise ValueError(f"{name} has node ids outside 0..{n - 1}")
    return src, dst


def _check_edge_weights(weight: np.ndarray, m: int) -> np.ndarray:
    weight = np.asarray(weight, dtype=np.float64)
    if weight.shape != (m,):
        raise ValueError(f"weight must have one value per edge ({m}), got shape {weight.shape}")
    if weight.size and not (np.isfinite(weight).all() and weight.min() >= 0):
        raise ValueError("edge weights must be finite and >= 0")
    return weight


def _check_node_vector(values: np.ndarray, n: int, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(f"{name} must have one value per node ({n}), got shape {values.shape}")
    if not (np.isfinite(values).all() and values.min() >= 0):
        raise ValueError(f"{name} values must be finite and >= 0")
    return values


def _probability_vector(values: np.ndarray | None, n: int, name: str) -> np.ndarray:
    """Normalize to sum 1 like networkx does (uniform when None); an all-zero vector is an error."""
    if values is None:
        return np.full(n, 1.0 / n)
    values = _check_node_vector(values, n, name)
    total = values.sum()
    if total <= 0:
        raise ValueError(f"{name} must have a positive sum")
    return values / total


# --------------------------------------------------------------------------------------------
# Link score
# --------------------------------------------------------------------------------------------


def link_score(scores: np.ndarray) -> np.ndarray:
    """0-100 log scale: 100 * log1p(n * pr) / log1p(n * max pr); the top page is 100.

    n * pr is a page's rank relative to the average page, so the scale does not drift with site
    size the way log(pr) does, and log1p keeps every page >= 0. Monotone in pr.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    if n == 0:
        return np.zeros(0)
    top = float(scores.max())
    if top <= 0:
        return np.zeros(n)
    return 100.0 * np.log1p(n * scores) / math.log1p(n * top)


# --------------------------------------------------------------------------------------------
# Variants over a node table and an edge table
# --------------------------------------------------------------------------------------------


class PageRankSettings(BaseModel):
    """Everything that changes a score. Stored with each run (`EquityResult.run_info`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(default=DEFAULT_ALPHA, gt=0, lt=1)
    tol: float | None = Field(
        default=None, gt=0, description="per-node tolerance; None = 1e-6 / n_eligible"
    )
    max_iter: int = Field(default=DEFAULT_MAX_ITER, ge=1)
    threads: int | None = Field(default=None, ge=1)
    position_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_POSITION_WEIGHTS)
    )
    unknown_position_weight: float = Field(default=1.0, ge=0)
    boilerplate_share: float = Field(default=0.5, ge=0, le=1)
    boilerplate_factor: float = Field(default=0.5, ge=0)
    # evaporate | drop: what is_followed=false edges do in the policy and TIPR variants;
    # follow: every edge counts as followed, in every variant.
    nofollow: Literal["evaporate", "drop", "follow"] = "evaporate"
    links_to_ineligible: Literal["evaporate", "drop"] = "evaporate"
    tipr_mix: float = Field(default=0.5, ge=0, le=1)
    link_score_variant: Literal["raw", "weighted", "policy", "tipr"] = "policy"
    hoarder_min_tipr_quantile: float = Field(default=0.9, ge=0, le=1)
    hoarder_max_outlinks_ratio: float = Field(default=0.5, ge=0)
    waster_max_tipr_quantile: float = Field(default=0.5, ge=0, le=1)
    waster_min_outlinks_ratio: float = Field(default=2.0, ge=0)

    def position_weight_of(self, position: str | None) -> float:
        if position is None:
            return self.unknown_position_weight
        return self.position_weights.get(position, self.unknown_position_weight)


@dataclass(frozen=True)
class VariantRun:
    """How one variant's iteration went: read it before trusting the scores."""

    variant: str
    iterations: int
    error: float
    tol_l1: float
    converged: bool
    n_nodes: int
    n_edges: int
    n_evaporating_edges: int
    seconds: float


@dataclass(frozen=True)
class EquityResult:
    """The per-page table plus what produced it."""

    table: pa.Table
    runs: dict[str, VariantRun]
    stats: dict[str, int]
    settings: PageRankSettings
    seconds: dict[str, float] = field(default_factory=dict)

    def run_info(self) -> dict[str, Any]:
        """JSON-ready description of the run (stored in the output Parquet's metadata)."""
        return {
            "runs": {name: run.__dict__ for name, run in self.runs.items()},
            "stats": dict(self.stats),
            "seconds": dict(self.seconds),
            "settings": self.settings.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class _Nodes:
    """Node columns as arrays, in node-table order."""

    keys: pa.Array
    eligible: np.ndarray  # bool
    referring_domains: np.ndarray  # int64 >= 0


@dataclass(frozen=True)
class _Edges:
    """Edge columns as arrays; ids are node-table rows (edges to unknown pages already dropped)."""

    src: np.ndarray
    dst: np.ndarray
    position_codes: np.ndarray  # index into position_names, -1 for null
    position_names: tuple[str, ...]
    weight: np.ndarray | None  # None: every row weighs 1.0
    followed: np.ndarray  # bool
    n_unknown_pages: int


def compute_link_equity(
    nodes: pa.Table, edges: pa.Table, settings: PageRankSettings | None = None
) -> EquityResult:
    """All variants side by side for every page of `nodes` (contract in the module docstring)."""
    settings = settings or PageRankSettings()
    clock = _Clock()
    node_arrays = read_nodes(nodes)
    edge_arrays = read_edges(edges, node_arrays.keys)
    clock.lap("read")
    return _compute(node_arrays, edge_arrays, settings, clock)


def read_nodes(nodes: pa.Table) -> _Nodes:
    """Validate the node table and turn it into arrays (see the module docstring's contract)."""
    if "url_key" not in nodes.column_names:
        raise KeyError("the node table needs a url_key column")
    keys = nodes.column("url_key").combine_chunks().cast(pa.string())
    if keys.null_count:
        raise ValueError("url_key must not be null")
    if not _unique(keys):
        raise ValueError("url_key must be unique in the node table")
    n = len(keys)
    eligible = _bool_column(nodes, "is_eligible", n, missing=True, null=False)
    referring_name = next(
        (c for c in ("referring_domains", "n_referring_domains") if c in nodes.column_names), None
    )
    if referring_name is not None:
        referring = to_numpy(nodes.column(referring_name).cast(pa.int64()), null=0)
    else:
        referring = np.zeros(n, dtype=np.int64)
    if referring.size and referring.min() < 0:
        raise ValueError("referring_domains must be >= 0")
    return _Nodes(keys, eligible, referring)


def _unique(keys: pa.Array) -> bool:
    """Whether no key repeats: two vectorized comparisons when the keys come sorted (DuckDB
    returns them ORDER BY url_key), a hash count otherwise (~0.6 s for 1M URLs)."""
    if len(keys) < 2:
        return True
    head, tail = keys.slice(0, len(keys) - 1), keys.slice(1)
    if not pc.any(pc.less(tail, head)).as_py():
        return not pc.any(pc.equal(tail, head)).as_py()
    return pc.count_distinct(keys).as_py() == len(keys)


def read_edges(edges: pa.Table, keys: pa.Array) -> _Edges:
    """Map the edge table onto node rows: integer ids when given, else a hash lookup of the keys."""
    names = edges.column_names
    if "source_id" in names and "target_id" in names:
        src = _id_column(edges, "source_id", len(keys))
        dst = _id_column(edges, "target_id", len(keys))
    elif "source_key" in names and "target_key" in names:
        src = _key_column(edges, "source_key", keys)
        dst = _key_column(edges, "target_key", keys)
    else:
        raise KeyError("the edge table needs source_key/target_key (or source_id/target_id)")
    m = len(src)
    known = (src >= 0) & (dst >= 0)
    n_unknown = int(m - np.count_nonzero(known))
    keep = None if n_unknown == 0 else np.flatnonzero(known)

    def take(values: np.ndarray) -> np.ndarray:
        return values if keep is None else values[keep]

    codes, position_names = _position_codes(edges, m)
    weight = None
    if "weight" in names:
        weight = to_numpy(edges.column("weight").cast(pa.float64()), null=1.0)
        weight = take(_check_edge_weights(weight, m))
    followed = _bool_column(edges, "is_followed", m, missing=True, null=True)
    return _Edges(
        src=take(src),
        dst=take(dst),
        position_codes=take(codes),
        position_names=position_names,
        weight=weight,
        followed=take(followed),
        n_unknown_pages=n_unknown,
    )


def _bool_column(table: pa.Table, name: str, n: int, *, missing: bool, null: bool) -> np.ndarray:
    if name not in table.column_names:
        return np.full(n, missing, dtype=bool)
    return to_numpy(table.column(name).cast(pa.bool_()), null=null)


def _id_column(table: pa.Table, name: str, n: int) -> np.ndarray:
    """Node row numbers as given; null or negative means "page not in the node table" (-1)."""
    column = table.column(name)
    if not pa.types.is_integer(column.type):
        raise TypeError(f"{name} must be an integer column, got {column.type}")
    ids = to_numpy(column, null=-1)
    if ids.size and ids.max() >= n:
        raise ValueError(f"{name} has ids beyond {n - 1} (row numbers of the node table)")
    return np.maximum(ids, -1, out=ids) if ids.flags.writeable else np.maximum(ids, -1)


def _key_column(table: pa.Table, name: str, keys: pa.Array) -> np.ndarray:
    """Row number of each key in `keys` (-1 when unknown), via one vectorized hash lookup."""
    column = table.column(name)
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    ids = pc.index_in(column, value_set=keys)
    index_type = np.int64 if len(keys) >= 2**31 - 1 else np.int32
    return to_numpy(ids, null=-1).astype(index_type, copy=False)


def _position_codes(edges: pa.Table, m: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Dictionary-encode the position strings: a small code per edge plus the distinct names."""
    if "position" not in edges.column_names:
        return np.full(m, -1, dtype=np.int16), ()
    column = edges.column("position")
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    encoded = column.unify_dictionaries().combine_chunks()
    names = tuple(str(v) for v in encoded.dictionary.to_pylist())
    code_type = np.int16 if len(names) < 2**15 else np.int32
    codes = to_numpy(encoded.indices, null=-1).astype(code_type, copy=False)
    return codes, names


def _compute(
    nodes: _Nodes, edges: _Edges, settings: PageRankSettings, clock: _Clock
) -> EquityResult:
    """The ladder of variants; boolean masks (not int64 index arrays) keep 30M edges compact."""
    if settings.nofollow == "follow":
        edges = replace(edges, followed=np.ones_like(edges.followed))
    n = len(nodes.eligible)
    eligible_ids = np.flatnonzero(nodes.eligible)
    n_eligible = int(eligible_ids.size)
    local = np.full(n, -1, dtype=np.int32 if n < 2**31 - 1 else np.int64)
    local[eligible_ids] = np.arange(n_eligible, dtype=local.dtype)
    s_local = local[edges.src]
    t_local = local[edges.dst]
    from_eligible = s_local >= 0
    to_eligible = t_local >= 0
    flows = from_eligible & to_eligible & edges.followed  # equity carriers of every variant
    evaporating = _evaporating_mask(from_eligible, to_eligible, edges.followed, flows, settings)
    del to_eligible
    lookup, unknown_codes = _position_lookup(edges.position_names, settings)
    boilerplate = _boilerplate_mask(edges, from_eligible, n, settings.boilerplate_share)
    del from_eligible

    def surfer(mask: np.ndarray) -> np.ndarray:
        """Reasonable-surfer weight of the masked edges: position x boilerplate discount."""
        weight = lookup[edges.position_codes[mask]]  # code -1 reads the last slot: unknown
        weight[boilerplate[mask]] *= settings.boilerplate_factor
        return weight

    clock.lap("prepare")
    graph = TransposedGraph.build(n_eligible, s_local[flows], t_local[flows], keep_order=True)
    del t_local
    clock.lap("build")
    runner = _VariantRunner(graph, settings)
    scores = {"raw": runner.run("raw", None)}
    clock.lap("raw")
    weighted = surfer(flows)
    scores["weighted"] = runner.run("weighted", weighted, nstart=scores["raw"])
    clock.lap("weighted")
    if edges.weight is None:
        policy = weighted
        evaporating_weight = surfer(evaporating)
    else:
        policy = weighted * edges.weight[flows]
        evaporating_weight = surfer(evaporating) * edges.weight[evaporating]
    del weighted
    evaporation = np.bincount(
        s_local[evaporating], weights=evaporating_weight, minlength=n_eligible
    ).astype(np.float64, copy=False)
    n_evaporating = int(evaporating_weight.size)
    del evaporating_weight, s_local
    scores["policy"] = runner.run(
        "policy", policy, evaporation, n_evaporating=n_evaporating, nstart=scores["weighted"]
    )
    clock.lap("policy")
    teleport = tipr_teleport(nodes.referring_domains[eligible_ids], settings.tipr_mix)
    scores["tipr"] = runner.run(
        "tipr",
        policy,
        evaporation,
        n_evaporating=n_evaporating,
        personalization=teleport,
        nstart=scores["policy"],
    )
    clock.lap("tipr")

    inlinks = np.bincount(edges.dst, minlength=n)
    outlinks = np.bincount(edges.src, minlength=n)
    table = _output_table(nodes, eligible_ids, scores, inlinks, outlinks, settings)
    clock.lap("output")
    stats = {
        "n_pages": n,
        "n_eligible": n_eligible,
        "n_edges": int(edges.src.size),
        "n_edges_unknown_pages": edges.n_unknown_pages,
        "n_flow_edges": graph.n_edges,
        "n_evaporating_edges": n_evaporating,
        "n_boilerplate_edges": int(np.count_nonzero(boilerplate)),
        "n_unknown_position_edges": int(np.count_nonzero(unknown_codes[edges.position_codes])),
    }
    return EquityResult(table, runner.runs, stats, settings, clock.laps)


class _VariantRunner:
    """Runs PageRank variants on one shared structure and records each run."""

    def __init__(self, graph: TransposedGraph, settings: PageRankSettings) -> None:
        self.graph = graph
        self.settings = settings
        self.runs: dict[str, VariantRun] = {}

    def run(
        self,
        name: str,
        edge_weight: np.ndarray | None,
        evaporation: np.ndarray | None = None,
        *,
        n_evaporating: int = 0,
        personalization: np.ndarray | None = None,
        nstart: np.ndarray | None = None,
    ) -> np.ndarray:
        """One variant; `nstart` (the previous rung's scores) only saves iterations."""
        started = time.perf_counter()
        graph, settings = self.graph, self.settings
        sorted_weight = None if edge_weight is None else graph.permute(edge_weight)
        result = graph.pagerank(
            sorted_weight,
            alpha=settings.alpha,
            personalization=personalization,
            evaporation=evaporation,
            nstart=nstart if nstart is not None and nstart.sum() > 0 else None,
            tol=settings.tol,
            max_iter=settings.max_iter,
            threads=settings.threads,
        )
        self.runs[name] = VariantRun(
            variant=name,
            iterations=result.iterations,
            error=result.error,
            tol_l1=result.tol_l1,
            converged=result.converged,
            n_nodes=graph.n,
            n_edges=graph.n_edges,
            n_evaporating_edges=int(n_evaporating),
            seconds=time.perf_counter() - started,
        )
        return result.scores


def _position_lookup(
    names: tuple[str, ...], settings: PageRankSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Weight per position code, plus which codes are unknown; slot -1 (last) is the null code."""
    weights = [settings.position_weight_of(name) for name in names]
    weights.append(settings.unknown_position_weight)
    unknown = [name not in settings.position_weights for name in names]
    unknown.append(True)
    return np.asarray(weights, dtype=np.float64), np.asarray(unknown, dtype=bool)


def _boilerplate_mask(edges: _Edges, from_eligible: np.ndarray, n: int, share: float) -> np.ndarray:
    """Edges whose (target, position) is linked from more than `share` of the source pages.

    Source pages are eligible pages with at least one link. A page repeating the link counts once:
    the rows per (target, position) bound the distinct sources from above, so only the few
    (target, position) pairs over the threshold by rows need their distinct sources counted
    (at most 1/share x edges / sources of them), with one sort of their edges.
    """
    mask = np.zeros(edges.src.size, dtype=bool)
    src = edges.src[from_eligible]
    if src.size == 0:
        return mask
    n_sources = np.count_nonzero(np.bincount(src, minlength=n))
    threshold = share * n_sources
    width = len(edges.position_names) + 1
    key_type = np.int32 if n * width < 2**31 - 1 else np.int64
    key = edges.dst[from_eligible].astype(key_type) * width
    key += edges.position_codes[from_eligible] + 1
    groups, rows_per_group = _group(key)
    del key
    candidates = np.flatnonzero(rows_per_group > threshold)
    if candidates.size == 0:
        return mask
    candidate_of_group = np.full(rows_per_group.size, -1, dtype=np.int64)
    candidate_of_group[candidates] = np.arange(candidates.size)
    candidate = candidate_of_group[groups]
    picked = candidate >= 0
    pairs = np.sort(candidate[picked] * n + src[picked])
    distinct = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
    sources_per_candidate = np.bincount(distinct // n, minlength=candidates.size)
    is_boilerplate = sources_per_candidate > threshold
    in_eligible = np.zeros(src.size, dtype=bool)
    in_eligible[picked] = is_boilerplate[candidate[picked]]
    mask[from_eligible] = in_eligible
    return mask


def _group(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group id per element, rows per group) for non-negative integer keys."""
    top = int(key.max()) + 1
    if top <= max(4 * key.size, 1 << 22):  # dense keys: a bincount is O(m) and needs no sort
        return key, np.bincount(key, minlength=top)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return inverse, counts


def _evaporating_mask(
    from_eligible: np.ndarray,
    to_eligible: np.ndarray,
    followed: np.ndarray,
    flows: np.ndarray,
    settings: PageRankSettings,
) -> np.ndarray:
    """Rows that leave an eligible page without carrying equity and are not dropped.

    An edge is dropped as soon as one of its reasons is set to "drop" (a nofollow link to a 404
    is dropped when either rule says so); it evaporates only when every reason says "evaporate".
    """
    evaporates = from_eligible & ~flows
    if settings.nofollow == "drop":
        evaporates &= followed
    if settings.links_to_ineligible == "drop":
        evaporates &= to_eligible
    return evaporates


def tipr_teleport(referring_domains: np.ndarray, mix: float) -> np.ndarray | None:
    """TIPR teleport: `mix` of it proportional to log1p(referring domains), the rest uniform.

    log1p tames the heavy tail of backlink counts (one page with 10,000 domains would otherwise
    take the whole teleport) and gives pages without backlinks 0 on that part. None (uniform)
    when no page has a backlink or mix is 0.
    """
    n = referring_domains.size
    prior = np.log1p(referring_domains.astype(np.float64))
    total = prior.sum()
    if n == 0 or total <= 0 or mix <= 0:
        return None
    return mix * prior / total + (1.0 - mix) / n


def hoarders_and_wasters(
    tipr: np.ndarray, outlinks: np.ndarray, settings: PageRankSettings
) -> tuple[np.ndarray, np.ndarray]:
    """TIPR flags over eligible pages (thresholds in the settings, see the module docstring)."""
    if tipr.size == 0:
        return np.zeros(0, bool), np.zeros(0, bool)
    median_outlinks = float(np.median(outlinks))
    high = np.quantile(tipr, settings.hoarder_min_tipr_quantile)
    low = np.quantile(tipr, settings.waster_max_tipr_quantile)
    hoarder = (tipr >= high) & (outlinks <= settings.hoarder_max_outlinks_ratio * median_outlinks)
    many = max(1.0, settings.waster_min_outlinks_ratio * median_outlinks)
    waster = (tipr <= low) & (outlinks >= many)
    return hoarder, waster


def _output_table(
    nodes: _Nodes,
    eligible_ids: np.ndarray,
    scores: dict[str, np.ndarray],
    inlinks: np.ndarray,
    outlinks: np.ndarray,
    settings: PageRankSettings,
) -> pa.Table:
    n = len(nodes.eligible)

    def spread(values: np.ndarray, dtype: type) -> pa.Array:
        full = np.zeros(n, dtype=dtype)
        full[eligible_ids] = values
        return from_numpy(full, valid=nodes.eligible)

    hoarder, waster = hoarders_and_wasters(scores["tipr"], outlinks[eligible_ids], settings)
    columns = {"url_key": nodes.keys}
    for name in ("raw", "weighted", "tipr", "policy"):
        columns[f"pagerank_{name}"] = spread(scores[name], np.float64)
    columns["link_score"] = spread(link_score(scores[settings.link_score_variant]), np.float64)
    columns["is_hoarder"] = spread(hoarder, bool)
    columns["is_waster"] = spread(waster, bool)
    columns["inlinks"] = from_numpy(inlinks.astype(np.int64))
    columns["outlinks"] = from_numpy(outlinks.astype(np.int64))
    return pa.table(columns, schema=OUTPUT_SCHEMA)


OUTPUT_SCHEMA = pa.schema(
    [
        ("url_key", pa.string()),
        ("pagerank_raw", pa.float64()),
        ("pagerank_weighted", pa.float64()),
        ("pagerank_tipr", pa.float64()),
        ("pagerank_policy", pa.float64()),
        ("link_score", pa.float64()),
        ("is_hoarder", pa.bool_()),
        ("is_waster", pa.bool_()),
        ("inlinks", pa.int64()),
        ("outlinks", pa.int64()),
    ]
)


def to_numpy(values: pa.Array | pa.ChunkedArray, null: float | bool | None = None) -> np.ndarray:
    """A numeric or boolean Arrow column as numpy, nulls replaced by `null`, without pandas.

    pyarrow's to_numpy(), pa.array() and pa.scalar() import pandas on first use (1-2 s of CPU);
    reading the buffers does not. Null-free numeric single-chunk columns are zero-copy views.
    `null=None` means nulls are an error.
    """
    if isinstance(values, pa.ChunkedArray):
        chunks = [to_numpy(chunk, null) for chunk in values.chunks]
        if len(chunks) == 1:
            return chunks[0]
        kind = _numpy_type(values.type)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=kind)
    kind = _numpy_type(values.type)
    n, offset = len(values), values.offset
    validity, data = values.buffers()[:2]
    if n == 0 or data is None:
        return np.full(n, null if null is not None else 0, dtype=kind)
    if pa.types.is_boolean(values.type):
        out = _bits(data, offset, n)
    else:
        out = np.frombuffer(data, dtype=kind, count=n, offset=offset * kind.itemsize)
    if values.null_count:
        if null is None:
            raise ValueError(f"expected no nulls in a {values.type} column")
        out = out.copy()
        out[~_bits(validity, offset, n)] = null
    return out


def _bits(buffer: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """An Arrow bitmap (validity or booleans), least significant bit first, as numpy bools."""
    bits = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")
    return bits[offset : offset + n].astype(bool)


def from_numpy(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A numeric or boolean numpy array as Arrow (null where `valid` is false), without pandas."""
    values = np.ascontiguousarray(values)
    n = values.shape[0]
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    if values.dtype == np.bool_:
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
        return pa.Array.from_buffers(pa.bool_(), n, [validity, data])
    arrow_type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(values)])


def _numpy_type(arrow_type: pa.DataType) -> np.dtype:
    if pa.types.is_boolean(arrow_type):
        return np.dtype(bool)
    if not (pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)):
        raise TypeError(f"expected a numeric or boolean column, got {arrow_type}")
    return np.dtype(arrow_type.to_pandas_dtype())


class _Clock:
    """Wall seconds per stage, so a slow run says where its time went."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now
