"""I/O around the PageRank library: the warehouse read read-only, the landed Parquet, edge files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from linking.graph import OUTPUT_SCHEMA, PageRankSettings, compute_link_equity, pagerank
from linking.pagerank_io import (
    LANDED_SCHEMA,
    land_link_equity,
    pagerank_parquet,
    read_edge_arrays,
    read_graph_tables,
    read_run_info,
)

NODES = pa.table(
    {
        "site_id": ["shop", "shop", "shop", "shop", "blog", "blog"],
        "url_key": ["d", "a", "c", "b", "x", "y"],
        "is_eligible": [True, True, False, True, True, True],
        "referring_domains": pa.array([0, 12, 0, None, 3, 0], pa.int64()),
    }
)
EDGES = pa.table(
    {
        "site_id": ["shop"] * 8 + ["blog"] * 2,
        "source_key": ["a", "a", "a", "b", "b", "d", "d", "a", "x", "y"],
        "target_key": ["b", "c", "d", "a", "zz", "a", "b", "b", "y", "x"],
        "position": [
            "content",
            "nav",
            "footer",
            None,
            "content",
            "nav",
            "nav",
            "content",
            "nav",
            "nav",
        ],
        "weight": [1.0, 1.0, 0.81, 1.0, 1.0, None, 1.0, 0.9, 1.0, 1.0],
        "is_followed": [True, True, True, False, True, True, None, True, True, True],
    }
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file shaped like dbt's output: plain schema names, the graph models as tables."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA intermediate")
    con.register("nodes_in", NODES)
    con.register("edges_in", EDGES)
    con.execute("CREATE TABLE intermediate.int_link_graph_nodes AS SELECT * FROM nodes_in")
    con.execute("CREATE TABLE intermediate.int_link_graph_edges AS SELECT * FROM edges_in")
    con.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def site_tables(site: str) -> tuple[pa.Table, pa.Table]:
    nodes = NODES.filter(pa.compute.equal(NODES.column("site_id"), site))
    edges = EDGES.filter(pa.compute.equal(EDGES.column("site_id"), site))
    return nodes, edges


def test_landed_scores_equal_the_library_on_the_same_tables(
    warehouse: Path, tmp_path: Path
) -> None:
    before = digest(warehouse)
    out = tmp_path / "landing" / "linking" / "shop" / "page_scores.parquet"
    result = land_link_equity(warehouse, out, site_id="shop")
    assert digest(warehouse) == before  # read-only: the warehouse file is untouched
    landed = pq.read_table(out)
    assert landed.schema.remove_metadata() == LANDED_SCHEMA
    assert set(landed.column("nofollow_policy").to_pylist()) == {"evaporate"}  # the default
    assert landed.column("url_key").to_pylist() == ["a", "b", "c", "d"]  # ordered by url_key
    nodes, edges = site_tables("shop")
    direct = compute_link_equity(nodes, edges).table.sort_by("url_key")
    for column in OUTPUT_SCHEMA.names:
        got, want = landed.column(column).to_pylist(), direct.column(column).to_pylist()
        assert [g is None for g in got] == [w is None for w in want], column
        pairs = [(g, w) for g, w in zip(got, want, strict=True) if g is not None]
        if landed.schema.field(column).type == pa.float64():
            assert all(g == pytest.approx(w, rel=1e-12) for g, w in pairs), column
        else:
            assert got == want, column
    assert result.stats["n_edges_unknown_pages"] == 1  # b -> zz
    assert not list(out.parent.glob("*.tmp"))


def test_run_info_travels_in_the_parquet_metadata(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    land_link_equity(warehouse, out, settings=PageRankSettings(tipr_mix=0.3, nofollow="drop"))
    info = read_run_info(out)
    assert set(pq.read_table(out).column("nofollow_policy").to_pylist()) == {"drop"}
    assert info["settings"]["nofollow"] == "drop"
    assert set(info["runs"]) == {"raw", "weighted", "policy", "tipr"}
    assert all(run["converged"] for run in info["runs"].values())
    assert info["settings"]["tipr_mix"] == 0.3
    assert info["stats"]["n_pages"] == 6  # no site filter: both sites


def test_site_filter_and_an_open_connection(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        nodes, edges = read_graph_tables(con, site_id="blog")
        assert nodes.column("url_key").to_pylist() == ["x", "y"]
        assert edges.num_rows == 2
        assert edges.column("source_id").to_pylist() in ([0, 1], [1, 0])
        assert edges.column("position").type == pa.dictionary(pa.int16(), pa.string())
        # the connection is still usable: the helper's temporary view is gone
        assert con.execute("SELECT count(*) FROM intermediate.int_link_graph_nodes").fetchone()
    finally:
        con.close()


def test_alias_and_missing_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE n AS SELECT * FROM (VALUES ('a', 3), ('b', 0)) t(url_key, n_referring_domains)"
    )
    con.execute(
        "CREATE TABLE e AS SELECT * FROM (VALUES ('a', 'b'), ('b', 'a')) t(source_key, target_key)"
    )
    con.close()
    nodes, edges = read_graph_tables(path, nodes_relation="n", edges_relation="e")
    assert nodes.column("referring_domains").to_pylist() == [3, 0]
    result = compute_link_equity(nodes, edges)
    assert result.table.column("pagerank_raw").to_pylist() == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("name", ["x; DROP TABLE y", "a..b", "", 'a"b'])
def test_relation_names_cannot_smuggle_sql(warehouse: Path, name: str) -> None:
    with pytest.raises(ValueError):
        read_graph_tables(warehouse, nodes_relation=name)


def test_edge_parquet_is_read_row_group_by_row_group(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n, m = 500, 6000
    src = rng.integers(0, n, m).astype(np.int32)
    dst = rng.integers(0, n - 1, m).astype(np.int32)
    weight = rng.random(m)
    path = tmp_path / "edges.parquet"
    pq.write_table(pa.table({"src": src, "dst": dst, "w": weight}), path, row_group_size=1000)
    edges = read_edge_arrays(path, weight="w")
    assert np.array_equal(edges.src, src) and np.array_equal(edges.dst, dst)
    assert np.array_equal(edges.weight, weight)
    from_file = pagerank_parquet(path, n, weight="w", tol=1e-15)
    in_memory = pagerank(n, src, dst, weight, tol=1e-15)
    assert np.abs(from_file.scores - in_memory.scores).sum() < 1e-14
    assert pagerank_parquet(path).scores.size == max(src.max(), dst.max()) + 1


def test_warehouse_column_types_are_coerced(tmp_path: Path) -> None:
    """dbt may produce DECIMAL weights (0.9^hops) and HUGEINT counts; the contract still holds."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE n AS SELECT * FROM (VALUES ('a', true, 7::HUGEINT), ('b', true, 0::HUGEINT))"
        " t(url_key, is_eligible, referring_domains)"
    )
    con.execute(
        "CREATE TABLE e AS SELECT * FROM (VALUES ('a', 'b', 'nav', 0.81::DECIMAL(4, 2), true),"
        " ('b', 'a', NULL, NULL, NULL)) t(source_key, target_key, position, weight, is_followed)"
    )
    con.close()
    nodes, edges = read_graph_tables(path, nodes_relation="n", edges_relation="e")
    assert edges.column("weight").type == pa.float64()
    result = compute_link_equity(nodes, edges)
    assert result.stats["n_unknown_position_edges"] == 1
    assert result.table.column("pagerank_tipr").to_pylist()[0] > 0.5


def test_pagerank_of_a_parquet_file_imports_neither_pandas_nor_duckdb(tmp_path: Path) -> None:
    """pyarrow's to_numpy() imports pandas (~1 s of CPU); the lean path must not pay for it."""
    import subprocess
    import sys

    path = tmp_path / "edges.parquet"
    pq.write_table(pa.table({"src": pa.array([0, 1, 2], pa.int32()), "dst": [1, 2, 0]}), path)
    code = (
        "import sys; from linking.pagerank_io import pagerank_parquet; "
        f"r = pagerank_parquet({str(path)!r}); "
        "assert abs(r.scores.sum() - 1) < 1e-9; "
        "print(sorted(m for m in ('pandas', 'duckdb') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_arrow_numpy_helpers_handle_slices_chunks_and_nulls() -> None:
    from linking.graph import from_numpy, to_numpy

    flags = pa.array([True, False, True, True, False, False, True, True, True, False])
    assert to_numpy(flags.slice(3, 5)).tolist() == [True, False, False, True, True]
    ints = pa.chunked_array([pa.array([1, 2, 3], pa.int32()).slice(1), pa.array([4], pa.int32())])
    assert to_numpy(ints).tolist() == [2, 3, 4]
    with pytest.raises(ValueError):
        to_numpy(pa.array([1, None]))
    assert to_numpy(pa.array([1, None, 3], pa.int64()).slice(1), null=-1).tolist() == [-1, 3]
    nullable = pa.chunked_array([[True, None], [None, False, True]])
    assert to_numpy(nullable, null=True).tolist() == [True, True, True, False, True]
    assert to_numpy(pa.array([0.5, None]), null=1.0).tolist() == [0.5, 1.0]
    back = from_numpy(np.array([0.5, 1.5, 2.5]), valid=np.array([True, False, True]))
    assert back.to_pylist() == [0.5, None, 2.5]
    assert from_numpy(np.array([True, False] * 5)).to_pylist() == [True, False] * 5
