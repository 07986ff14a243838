"""PageRank benchmark: linking.graph side by side with networkx.pagerank and igraph, in one run.

A deterministic power-law graph (default 1,000,000 pages, 30,000,000 distinct links) is generated
once into Parquet under bench/out/ (git-ignored) and reused. Each engine then runs in its own
subprocess, so peak RSS is per engine and nothing is shared through caches or the allocator:
read the Parquet, build its graph, compute PageRank at the same tolerance, save the scores.
The parent measures wall, CPU and peak RSS of each child (bench/common.py), compares the score
vectors with linking.graph's (L1 difference) and prints a Markdown table.

    python bench/pagerank.py                         # full size, every engine (networkx ~4 min, 12 GB)
    python bench/pagerank.py --skip-networkx         # the fast engines only
    python bench/pagerank.py --pages 100000 --links 3000000
    python bench/pagerank.py --runs 3                # median of 3 runs of linking.graph
    python bench/pagerank.py --markdown bench/out/pagerank.md
    python bench/pagerank.py --write                 # also replace `## PageRank` in docs/benchmarks.md

Engines:
- `linking.graph`: `read_edge_arrays` (row group by row group into final arrays), the transposed
  CSR by counting sort, power iteration with threaded row blocks. Timed inside: read, build,
  compute, iterations.
- `linking.graph, 4 variants`: `compute_link_equity` on the same graph with a node table
  (url_key strings, eligibility, referring domains) and positions/follow flags on the edges: the
  whole warehouse step (four PageRanks, boilerplate detection, flags) minus DuckDB.
- `networkx.pagerank`: DiGraph from the edge list, then nx.pagerank with tol = 1e-6/n per node
  (its default tol is 1e-6 *per node times n*: 2 iterations and errors up to 168% at 1M pages).
- `igraph` (PRPACK), when the bench group is installed.

Every engine uses damping 0.85 and the same dangling rule (uniform redistribution).
Targets for linking.graph: <= 3 s and <= 1 GB including reading the Parquet, >= 70x networkx.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

OUT = REPO / "bench" / "out"
ALPHA = 0.85
TOL_L1 = 1e-6  # per node 1e-6 / n: the L1 change of the whole vector under 1e-6
TARGET_TOTAL_S = 3.0
TARGET_RSS_MB = 1024.0
TARGET_SPEEDUP = 70.0
DOCS_FILE = REPO / "docs" / "benchmarks.md"
DOCS_TITLE = (
    "# Benchmarks\n\n"
    "Measured side by side with peer tools by the scripts in `bench/` (see `bench/README.md`); "
    "every figure in a section comes from one run on the machine that section names.\n"
)
SECTION = "## PageRank"
ENGINES = ("linking", "linking-variants", "networkx", "igraph")
LABELS = {
    "linking": "linking.graph",
    "linking-variants": "linking.graph, 4 variants (compute_link_equity)",
    "networkx": "networkx.pagerank (DiGraph)",
    "igraph": "igraph (PRPACK)",
}


# --------------------------------------------------------------------------------------------
# The graph


@dataclass(frozen=True)
class GraphFiles:
    edges: Path
    nodes: Path
    pages: int
    links: int
    seed: int


def graph_files(pages: int, links: int, seed: int) -> GraphFiles:
    stem = f"pagerank_{pages}_{links}_{seed}"
    return GraphFiles(
        OUT / f"{stem}_edges.parquet", OUT / f"{stem}_nodes.parquet", pages, links, seed
    )


def generate_graph(files: GraphFiles) -> None:
    """Power-law in-degrees, lognormal out-degrees, 5% pages without links, no repeated links.

    Targets are drawn as N * u**3 (density ~ x^-2/3: a few pages get most links, like home and
    category pages) through a random permutation so ids say nothing about rank. Rows are sorted by
    (source, target), as a crawl export would be. Extra columns for the variants run: a position
    per link, 3% nofollow; per page: 95% eligible, 10% with referring domains (Pareto).
    """
    import numpy as np
    import pyarrow as pa

    from ingest.landing import write_table

    rng = np.random.default_rng(files.seed)
    n, m = files.pages, files.links
    activity = rng.lognormal(0.0, 0.6, n)
    activity[rng.random(n) < 0.05] = 0.0
    perm = rng.permutation(n)
    oversample = 1.03
    while True:
        out_degree = rng.poisson(activity * (m * oversample) / activity.sum())
        src = np.repeat(np.arange(n, dtype=np.int64), out_degree)
        dst = perm[np.minimum((n * rng.random(src.size) ** 3).astype(np.int64), n - 1)]
        key = src * n + dst
        key.sort()
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
        if key.size >= m:
            break
        oversample *= 1.05
    drop = rng.choice(key.size, key.size - m, replace=False)
    keep = np.ones(key.size, dtype=bool)
    keep[drop] = False
    key = key[keep]
    positions = np.array(["content", "nav", "footer", "header", "sidebar", "breadcrumb"])
    codes = rng.choice(positions.size, m, p=[0.5, 0.2, 0.1, 0.05, 0.1, 0.05]).astype(np.int8)
    edges = pa.table(
        {
            "src": (key // n).astype(np.int32),
            "dst": (key % n).astype(np.int32),
            "position": pa.DictionaryArray.from_arrays(codes, pa.array(positions)),
            "is_followed": rng.random(m) > 0.03,
        }
    )
    write_table(edges, files.edges)
    referring = (rng.pareto(1.1, n) * 3).astype(np.int64) * (rng.random(n) < 0.1)
    nodes = pa.table(
        {
            "url_key": pa.array([f"https://example.com/p/{i}" for i in range(n)]),
            "is_eligible": rng.random(n) > 0.05,
            "referring_domains": referring,
        }
    )
    write_table(nodes, files.nodes)


# --------------------------------------------------------------------------------------------
# Children: one engine per process


def child(engine: str, files: GraphFiles, scores_path: Path) -> dict[str, object]:
    """Run one engine and return its timings; scores are saved to `scores_path` (.npy).

    Modules are imported before the clock starts: `in_process_s` is read + build + compute, the
    figure the targets speak of. Interpreter start-up and imports are in the process wall time.
    """
    import_started = time.perf_counter()
    for module in _IMPORTS[engine]:
        importlib.import_module(module)
    imported = time.perf_counter()
    result = _RUNNERS[engine](files, scores_path)
    result["in_process_s"] = time.perf_counter() - imported
    result["import_s"] = imported - import_started
    return result


def _run_linking(files: GraphFiles, scores_path: Path) -> dict[str, object]:
    import numpy as np

    from linking.graph import TransposedGraph
    from linking.pagerank_io import read_edge_arrays

    t0 = time.perf_counter()
    edges = read_edge_arrays(files.edges)
    t1 = time.perf_counter()
    graph = TransposedGraph.build(files.pages, edges.src, edges.dst, keep_order=False)
    del edges
    t2 = time.perf_counter()
    result = graph.pagerank(alpha=ALPHA, tol=TOL_L1 / files.pages)
    t3 = time.perf_counter()
    np.save(scores_path, result.scores)
    return {
        "read_s": t1 - t0,
        "build_s": t2 - t1,
        "compute_s": t3 - t2,
        "iterations": result.iterations,
        "error": result.error,
    }


def _run_variants(files: GraphFiles, scores_path: Path) -> dict[str, object]:
    import numpy as np
    import pyarrow.parquet as pq

    from linking.graph import PageRankSettings, compute_link_equity

    t0 = time.perf_counter()
    # ParquetFile.read, not pq.read_table: the latter imports pyarrow.dataset (~3 s of CPU here).
    nodes = pq.ParquetFile(files.nodes).read()
    edges = (
        pq.ParquetFile(files.edges, read_dictionary=["position"])
        .read()
        .rename_columns(["source_id", "target_id", "position", "is_followed"])
    )
    t1 = time.perf_counter()
    result = compute_link_equity(nodes, edges, PageRankSettings(tol=TOL_L1 / files.pages))
    t2 = time.perf_counter()
    raw = result.table.column("pagerank_raw").to_numpy(zero_copy_only=False)
    np.save(scores_path, np.nan_to_num(raw))
    return {
        "read_s": t1 - t0,
        "build_s": result.seconds.get("read", 0)
        + result.seconds.get("prepare", 0)
        + result.seconds.get("build", 0),
        "compute_s": t2
        - t1
        - result.seconds.get("read", 0)
        - result.seconds.get("prepare", 0)
        - result.seconds.get("build", 0),
        "iterations": "/".join(str(r.iterations) for r in result.runs.values()),
        "stages": result.seconds,
    }


def _run_networkx(files: GraphFiles, scores_path: Path) -> dict[str, object]:
    import networkx as nx
    import numpy as np

    from linking.pagerank_io import read_edge_arrays  # the same reader for every engine

    t0 = time.perf_counter()
    edges = read_edge_arrays(files.edges)
    src, dst = edges.src, edges.dst
    del edges
    t1 = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_nodes_from(range(files.pages))
    graph.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    del src, dst
    t2 = time.perf_counter()
    scores = nx.pagerank(graph, alpha=ALPHA, tol=TOL_L1 / files.pages, max_iter=1000)
    t3 = time.perf_counter()
    np.save(scores_path, np.array([scores[i] for i in range(files.pages)]))
    return {"read_s": t1 - t0, "build_s": t2 - t1, "compute_s": t3 - t2, "iterations": "?"}


def _run_igraph(files: GraphFiles, scores_path: Path) -> dict[str, object]:
    import igraph
    import numpy as np

    from linking.pagerank_io import read_edge_arrays

    t0 = time.perf_counter()
    edges = read_edge_arrays(files.edges)
    pairs = np.column_stack([edges.src, edges.dst])
    del edges
    t1 = time.perf_counter()
    graph = igraph.Graph(n=files.pages, edges=pairs, directed=True)
    del pairs
    t2 = time.perf_counter()
    scores = graph.pagerank(damping=ALPHA, directed=True, implementation="prpack")
    t3 = time.perf_counter()
    np.save(scores_path, np.asarray(scores))
    return {"read_s": t1 - t0, "build_s": t2 - t1, "compute_s": t3 - t2, "iterations": "PRPACK"}


_IMPORTS = {
    "linking": ("numpy", "linking.graph", "linking.pagerank_io"),
    "linking-variants": ("numpy", "pyarrow.parquet", "linking.graph"),
    "networkx": ("numpy", "linking.pagerank_io", "networkx"),
    "igraph": ("numpy", "linking.pagerank_io", "igraph"),
}
_RUNNERS = {
    "linking": _run_linking,
    "linking-variants": _run_variants,
    "networkx": _run_networkx,
    "igraph": _run_igraph,
}


# --------------------------------------------------------------------------------------------
# Parent: measure every child, compare, report


@dataclass
class EngineRun:
    engine: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    other_load: float
    timings: dict[str, object]
    scores: Path


def run_engine(engine: str, files: GraphFiles, quiet_wait_s: float) -> EngineRun:
    from common import run_measured, wait_for_quiet_machine

    wait_for_quiet_machine(quiet_wait_s)
    scores = OUT / f"scores_{engine}_{files.pages}_{files.links}.npy"
    argv = [
        sys.executable,
        __file__,
        "--child",
        engine,
        "--pages",
        str(files.pages),
        "--links",
        str(files.links),
        "--seed",
        str(files.seed),
        "--scores",
        str(scores),
    ]
    measured = run_measured(argv, cwd=REPO).check()
    timings = json.loads(measured.stdout.strip().splitlines()[-1])
    return EngineRun(
        engine,
        measured.wall_s,
        measured.cpu_s,
        measured.peak_rss_mb,
        measured.other_load,
        timings,
        scores,
    )


def agreement(reference: Path, other: Path) -> tuple[float, float]:
    """(L1 difference, largest relative difference) of two score vectors."""
    import numpy as np

    a, b = np.load(reference), np.load(other)
    return float(np.abs(a - b).sum()), float((np.abs(a - b) / np.maximum(a, 1e-300)).max())


def engine_available(engine: str) -> bool:
    module = {"networkx": "networkx", "igraph": "igraph"}.get(engine)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def markdown(files: GraphFiles, runs: list[EngineRun], notes: list[str]) -> str:
    from common import machine_description

    machine = machine_description()
    by_engine = {r.engine: r for r in runs}
    nx_run = by_engine.get("networkx")
    base = by_engine.get("linking")
    lines = [
        f"Graph: {files.pages:,} pages, {files.links:,} distinct links (power-law in-degree, "
        f"5% pages without links; seed {files.seed}), Parquet "
        f"{files.edges.stat().st_size / 1e6:.0f} MB zstd. Damping {ALPHA}, stop at an L1 change "
        f"< {TOL_L1:g} (per node {TOL_L1:g}/n) for every iterating engine.",
        "",
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']}, "
        f"{machine['os']}, Python {machine['python']}; " + ", ".join(_versions()),
        "",
        "| engine | read s | build s | compute s | iterations | read+build+compute s "
        "| process wall s "
        "| CPU s | peak RSS MB | speed-up vs networkx | L1 vs linking.graph | other load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        t = run.timings
        speedup = "-"
        if nx_run:
            ratio = _in_process(nx_run) / _in_process(run)
            speedup = f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
        if base is None or run is base:
            l1 = "-"
        elif run.engine == "linking-variants":
            l1 = "n/a (eligible subgraph)"
        else:
            l1 = f"{agreement(base.scores, run.scores)[0]:.1e}"
        lines.append(
            f"| {LABELS[run.engine]} | {t['read_s']:.2f} | {t['build_s']:.2f} | "
            f"{t['compute_s']:.2f} | {t['iterations']} | {t['in_process_s']:.2f} | "
            f"{run.wall_s:.2f} | {run.cpu_s:.1f} | {run.peak_rss_mb:,.0f} | {speedup} | {l1} | "
            f"{run.other_load:.0%} |"
        )
    lines += ["", *notes]
    return "\n".join(lines)


def _versions() -> list[str]:
    out = []
    for package in ("numpy", "scipy", "pyarrow", "networkx", "igraph"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out.append(f"{package} {metadata.version(package)}")
    return out


def _in_process(run: EngineRun) -> float:
    """read + build + compute, timed inside the engine's process (imports excluded)."""
    return float(run.timings["in_process_s"])


def verdict(runs: list[EngineRun]) -> list[str]:
    """Targets for linking.graph, judged on the median run; where the time went if missed."""
    by_engine = {r.engine: r for r in runs}
    base = by_engine.get("linking")
    if base is None:
        return []
    total = float(base.timings["in_process_s"])
    notes = [
        f"- Target <= {TARGET_TOTAL_S:g} s read+build+compute: **{total:.2f} s** "
        f"({'met' if total <= TARGET_TOTAL_S else 'MISSED'}); process wall with interpreter "
        f"start and imports {base.wall_s:.2f} s.",
        f"- Target <= {TARGET_RSS_MB:,.0f} MB peak RSS: **{base.peak_rss_mb:,.0f} MB** "
        f"({'met' if base.peak_rss_mb <= TARGET_RSS_MB else 'MISSED'}).",
    ]
    nx_run = by_engine.get("networkx")
    if nx_run:
        ratio = _in_process(nx_run) / _in_process(base)
        notes.append(
            f"- Target >= {TARGET_SPEEDUP:g}x networkx (read+build+compute): **{ratio:.0f}x** "
            f"({'met' if ratio >= TARGET_SPEEDUP else 'MISSED'}); by process wall, start-up and "
            f"imports included: {nx_run.wall_s / base.wall_s:.0f}x. networkx peak RSS "
            f"{nx_run.peak_rss_mb:,.0f} MB."
        )
    if total > TARGET_TOTAL_S:
        t = base.timings
        notes.append(
            f"- Where the time went: read {t['read_s']:.2f} s, build {t['build_s']:.2f} s, "
            f"compute {t['compute_s']:.2f} s ({t['iterations']} iterations); "
            f"CPU {base.cpu_s:.1f} s; other processes used {base.other_load:.0%} of the machine."
        )
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=30_000_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--runs", type=int, default=3, help="runs of each linking engine")
    parser.add_argument("--skip-networkx", action="store_true")
    parser.add_argument("--skip-igraph", action="store_true")
    parser.add_argument("--skip-variants", action="store_true")
    parser.add_argument("--quiet-wait", type=float, default=60.0)
    parser.add_argument("--markdown", type=Path, help="also write the section to this file")
    parser.add_argument("--write", action="store_true", help=f"replace {SECTION} in docs")
    parser.add_argument("--docs", type=Path, default=DOCS_FILE)
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--scores", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    files = graph_files(args.pages, args.links, args.seed)

    if args.child:
        print(json.dumps(child(args.child, files, args.scores), default=str))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    if not (files.edges.exists() and files.nodes.exists()):
        print(f"generating {files.pages:,} pages / {files.links:,} links ...", file=sys.stderr)
        started = time.perf_counter()
        generate_graph(files)
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    engines = ["linking"]
    if not args.skip_variants:
        engines.append("linking-variants")
    if not args.skip_igraph and engine_available("igraph"):
        engines.append("igraph")
    if not args.skip_networkx:
        engines.append("networkx")
    runs: list[EngineRun] = []
    failures: list[str] = []
    for engine in engines:
        repeats = args.runs if engine.startswith("linking") else 1
        attempts = []
        for i in range(repeats):
            print(f"running {engine} ({i + 1}/{repeats}) ...", file=sys.stderr, flush=True)
            try:
                attempts.append(run_engine(engine, files, args.quiet_wait))
            except RuntimeError as exc:  # one engine failing must not lose the others' figures
                reason = str(exc).strip().splitlines()[-1]
                failures.append(f"- {LABELS[engine]} failed: {reason}")
                print(failures[-1], file=sys.stderr, flush=True)
                break
        if attempts:
            attempts.sort(key=lambda r: r.wall_s)
            runs.append(attempts[len(attempts) // 2])  # the median run, whole
    notes = verdict(runs) + failures
    if len(runs) and args.runs > 1:
        notes.append(f"- linking.graph rows: the median of {args.runs} runs by process wall.")
    text = markdown(files, runs, notes)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")
    if args.write:
        from common import replace_markdown_section

        replace_markdown_section(args.docs, SECTION, text, DOCS_TITLE)
        print(f"wrote {SECTION} in {args.docs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
