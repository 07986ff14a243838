"""The variants of compute_link_equity: each one rebuilt here in plain Python + networkx, and the
hand-built graphs where position weights, boilerplate, evaporation and TIPR must move scores."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest
from conftest import TIGHT_TOL, Reference

from linking.graph import (
    OUTPUT_SCHEMA,
    PageRankSettings,
    compute_link_equity,
    hoarders_and_wasters,
)

L1 = 1e-9
TIGHT = PageRankSettings(tol=TIGHT_TOL)
POSITIONS = ["content", "nav", "footer", "header", "sidebar", "breadcrumb", "mystery", None]


def nodes_table(
    keys: list[str], eligible: list[bool] | None = None, rd: list[int | None] | None = None
) -> pa.Table:
    return pa.table(
        {
            "url_key": pa.array(keys, pa.string()),
            "is_eligible": pa.array(eligible if eligible is not None else [True] * len(keys)),
            "referring_domains": pa.array(rd if rd is not None else [0] * len(keys), pa.int64()),
        }
    )


def edges_table(rows: list[tuple]) -> pa.Table:
    """rows: (source, target[, position="content"[, weight=1.0[, is_followed=True]]])."""
    defaults = (None, None, "content", 1.0, True)
    full = [tuple(r) + defaults[len(r) :] for r in rows]
    columns = {
        "source_key": pa.string(),
        "target_key": pa.string(),
        "position": pa.string(),
        "weight": pa.float64(),
        "is_followed": pa.bool_(),
    }
    return pa.table(
        {
            name: pa.array([r[i] for r in full], kind)
            for i, (name, kind) in enumerate(columns.items())
        }
    )


def scores(result, column: str) -> dict[str, float | None]:
    table = result.table
    return dict(
        zip(table.column("url_key").to_pylist(), table.column(column).to_pylist(), strict=True)
    )


# ------------------------------------------------------------------------------------------
# Every variant against an independent networkx rebuild
# ------------------------------------------------------------------------------------------


def random_tables(seed: int) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    n = 90
    keys = [f"https://example.com/p{i}" for i in range(n)]
    eligible = (rng.random(n) > 0.15).tolist()
    eligible[0] = True
    rd = (rng.pareto(1.2, n) * (rng.random(n) < 0.4) * 5).astype(int).tolist()
    rd[3] = None  # unknown -> 0
    rows: list[tuple] = []
    for s in range(n):
        if rng.random() < 0.1:
            continue  # dangling page
        for t in (n * rng.random(rng.integers(1, 12)) ** 2).astype(int):
            position = POSITIONS[rng.integers(len(POSITIONS))]
            weight = None if rng.random() < 0.1 else float(0.9 ** rng.integers(0, 3))
            followed = None if rng.random() < 0.05 else bool(rng.random() > 0.15)
            rows.append((keys[s], keys[t], position, weight, followed))
        # Template links: a nav menu on ~70% of pages, a footer link on about half of them.
        if rng.random() < 0.7:
            rows += [(keys[s], keys[t], "nav", 1.0, True) for t in (1, 2, 5)]
        if rng.random() < 0.5:
            rows.append((keys[s], keys[7], "footer", 1.0, True))
    rows += [(keys[1], "https://example.com/unknown", "content", 1.0, True)]
    rows += [("https://example.com/gone", keys[2], "content", 1.0, True)]
    rows += [(keys[4], keys[9], "nav", 1.0, True)] * 3  # repeated rows
    order = rng.permutation(len(rows))
    return nodes_table(keys, eligible, rd), edges_table([rows[i] for i in order])


def reference_variants(
    nodes: pa.Table, edges: pa.Table, settings: PageRankSettings, reference: Reference
) -> dict[str, dict[str, float]]:
    """The module docstring's definitions, written out with dicts and loops."""
    keys = nodes.column("url_key").to_pylist()
    known = set(keys)
    eligible = [k for k, e in zip(keys, nodes.column("is_eligible").to_pylist(), strict=True) if e]
    index = {k: i for i, k in enumerate(eligible)}
    rd = dict(zip(keys, nodes.column("referring_domains").to_pylist(), strict=True))
    rows = [
        r
        for r in edges.to_pylist()
        if r["source_key"] in known and r["target_key"] in known  # unknown pages: dropped
    ]
    sources = {r["source_key"] for r in rows if r["source_key"] in index}
    linking_sources = defaultdict(set)
    for r in rows:
        if r["source_key"] in index:
            linking_sources[(r["target_key"], r["position"])].add(r["source_key"])
    boilerplate = {
        key
        for key, found_on in linking_sources.items()
        if len(found_on) > settings.boilerplate_share * len(sources)
    }

    def surfer(r: dict) -> float:
        w = settings.position_weight_of(r["position"])
        if (r["target_key"], r["position"]) in boilerplate:
            w *= settings.boilerplate_factor
        return w

    def policy_weight(r: dict) -> float:
        return surfer(r) * (1.0 if r["weight"] is None else r["weight"])

    followed = [r["is_followed"] is not False for r in rows]
    flows = [
        r
        for r, f in zip(rows, followed, strict=True)
        if f and r["source_key"] in index and r["target_key"] in index
    ]
    src = np.array([index[r["source_key"]] for r in flows], dtype=np.int64)
    dst = np.array([index[r["target_key"]] for r in flows], dtype=np.int64)
    evaporation = np.zeros(len(eligible))
    for r, f in zip(rows, followed, strict=True):
        if r["source_key"] not in index or (f and r["target_key"] in index):
            continue
        if not f and settings.nofollow == "drop":
            continue
        if r["target_key"] not in index and settings.links_to_ineligible == "drop":
            continue
        evaporation[index[r["source_key"]]] += policy_weight(r)
    prior = np.array([math.log1p(rd[k] or 0) for k in eligible])
    teleport = settings.tipr_mix * prior / prior.sum() + (1 - settings.tipr_mix) / len(eligible)
    alpha = settings.alpha
    raw = reference(len(eligible), src, dst, alpha=alpha)
    weighted = reference(len(eligible), src, dst, [surfer(r) for r in flows], alpha=alpha)
    policy_w = [policy_weight(r) for r in flows]
    policy = reference(len(eligible), src, dst, policy_w, evaporation=evaporation, alpha=alpha)
    tipr = reference(
        len(eligible),
        src,
        dst,
        policy_w,
        evaporation=evaporation,
        personalization=teleport,
        alpha=alpha,
    )
    out = {}
    for name, values in (("raw", raw), ("weighted", weighted), ("policy", policy), ("tipr", tipr)):
        out[name] = dict(zip(eligible, values.tolist(), strict=True))
    return out


def assert_variants_match(result, expected: dict[str, dict[str, float]]) -> None:
    for variant, values in expected.items():
        got = scores(result, f"pagerank_{variant}")
        assert set(k for k, v in got.items() if v is not None) == set(values), variant
        diff = sum(abs(got[k] - v) for k, v in values.items())
        assert diff <= L1, (variant, diff)


@pytest.mark.parametrize("seed", range(5))
def test_every_variant_matches_networkx_on_random_tables(seed: int, reference: Reference) -> None:
    nodes, edges = random_tables(seed)
    result = compute_link_equity(nodes, edges, TIGHT)
    assert_variants_match(result, reference_variants(nodes, edges, TIGHT, reference))
    assert all(run.converged for run in result.runs.values())
    assert result.stats["n_edges_unknown_pages"] == 2
    assert result.stats["n_boilerplate_edges"] > 0


@pytest.mark.parametrize(
    "settings",
    [
        PageRankSettings(tol=TIGHT_TOL, nofollow="drop", links_to_ineligible="drop"),
        PageRankSettings(tol=TIGHT_TOL, nofollow="drop"),
        PageRankSettings(
            tol=TIGHT_TOL,
            alpha=0.7,
            tipr_mix=0.9,
            boilerplate_share=0.3,
            boilerplate_factor=0.2,
            position_weights={"content": 1.0, "nav": 0.5},
            unknown_position_weight=0.25,
        ),
    ],
)
def test_variants_follow_their_settings(settings: PageRankSettings, reference: Reference) -> None:
    nodes, edges = random_tables(11)
    result = compute_link_equity(nodes, edges, settings)
    assert_variants_match(result, reference_variants(nodes, edges, settings, reference))


def test_integer_ids_and_string_keys_give_the_same_table() -> None:
    nodes, edges = random_tables(3)
    by_key = compute_link_equity(nodes, edges, TIGHT)
    row = {k: i for i, k in enumerate(nodes.column("url_key").to_pylist())}
    ids = (
        edges.drop_columns(["source_key", "target_key"])
        .append_column(
            "source_id",
            pa.array([row.get(k) for k in edges.column("source_key").to_pylist()], pa.int32()),
        )
        .append_column(
            "target_id",
            pa.array([row.get(k, -1) for k in edges.column("target_key").to_pylist()], pa.int64()),
        )
    )
    by_id = compute_link_equity(nodes, ids, TIGHT)
    for column in by_key.table.column_names:
        a, b = by_key.table.column(column).to_pylist(), by_id.table.column(column).to_pylist()
        if column.startswith("pagerank"):
            assert sum(abs(x - y) for x, y in zip(a, b, strict=True) if x is not None) < 1e-14
        else:
            assert a == b, column


def test_output_has_the_documented_columns_and_nulls_for_ineligible_pages() -> None:
    nodes = nodes_table(["a", "b", "c"], [True, True, False])
    edges = edges_table([("a", "b"), ("b", "a"), ("b", "c"), ("c", "a")])
    result = compute_link_equity(nodes, edges)
    assert result.table.schema == OUTPUT_SCHEMA
    row_c = result.table.to_pylist()[2]
    assert row_c["url_key"] == "c"
    assert all(row_c[c] is None for c in OUTPUT_SCHEMA.names[1:8])
    assert (row_c["inlinks"], row_c["outlinks"]) == (1, 1)
    assert set(result.runs) == {"raw", "weighted", "policy", "tipr"}
    assert result.run_info()["runs"]["raw"]["iterations"] >= 1


# ------------------------------------------------------------------------------------------
# Hand-built graphs: every knob moves scores the way it should
# ------------------------------------------------------------------------------------------


def hub_graph(position_of_x: str, position_of_y: str) -> tuple[pa.Table, pa.Table]:
    """A home page links to x and y; both link back; two more pages link home."""
    nodes = nodes_table(["home", "x", "y", "p", "q"])
    edges = edges_table(
        [
            ("home", "x", position_of_x),
            ("home", "y", position_of_y),
            ("x", "home", "content"),
            ("y", "home", "content"),
            ("p", "home", "content"),
            ("q", "home", "content"),
            ("home", "p", "content"),
            ("home", "q", "content"),
        ]
    )
    return nodes, edges


def test_a_content_link_passes_more_than_the_same_link_in_the_footer() -> None:
    result = compute_link_equity(*hub_graph("content", "footer"))
    raw, weighted = scores(result, "pagerank_raw"), scores(result, "pagerank_weighted")
    assert raw["x"] == pytest.approx(raw["y"])
    assert weighted["x"] > weighted["y"]
    assert weighted["x"] > raw["x"] and weighted["y"] < raw["y"]


@pytest.mark.parametrize(
    ("stronger", "weaker"),
    [("content", "breadcrumb"), ("breadcrumb", "sidebar"), ("sidebar", "nav"), ("nav", "footer")],
)
def test_default_position_weights_rank_positions(stronger: str, weaker: str) -> None:
    weighted = scores(compute_link_equity(*hub_graph(stronger, weaker)), "pagerank_weighted")
    assert weighted["x"] > weighted["y"]


def test_nav_and_header_weigh_the_same_by_default() -> None:
    weighted = scores(compute_link_equity(*hub_graph("nav", "header")), "pagerank_weighted")
    assert weighted["x"] == pytest.approx(weighted["y"])


def template_site(linking_pages: int, total_pages: int = 6, repeats: int = 1):
    """A ring of `total_pages` pages (each links to the next from content, so each is a source
    page and no content link repeats); the first `linking_pages` also link to `target` from nav,
    the first one `repeats` times."""
    pages = [f"p{i}" for i in range(total_pages)]
    rows = [(p, pages[(i + 1) % total_pages], "content") for i, p in enumerate(pages)]
    rows += [(p, "target", "nav") for p in pages[:linking_pages]]
    rows += [(pages[0], "target", "nav")] * (repeats - 1)
    return nodes_table([*pages, "target"]), edges_table(rows)


def boilerplate_edges(*args: int, **settings: float) -> int:
    result = compute_link_equity(*template_site(*args), PageRankSettings(**settings))
    return result.stats["n_boilerplate_edges"]


def test_boilerplate_discount_applies_exactly_above_half_the_source_pages() -> None:
    assert boilerplate_edges(3, 6) == 0  # exactly half
    assert boilerplate_edges(4, 8) == 0  # exactly half
    assert boilerplate_edges(4, 7) == 4  # more than half: every such link is discounted
    assert boilerplate_edges(6, 6) == 6
    assert boilerplate_edges(6, 7, boilerplate_share=0.9) == 0  # 6/7 < 0.9
    assert boilerplate_edges(7, 7, boilerplate_share=0.9) == 7


def test_a_page_repeating_a_link_counts_once_for_boilerplate() -> None:
    assert boilerplate_edges(3, 6, 5) == 0  # 7 rows but 3 of 6 pages


def test_boilerplate_discount_lowers_the_target_in_weighted_but_not_raw() -> None:
    plain = PageRankSettings(boilerplate_factor=1.0)
    nodes, edges = template_site(linking_pages=5)
    discounted = compute_link_equity(nodes, edges)
    undiscounted = compute_link_equity(nodes, edges, plain)
    assert (
        scores(discounted, "pagerank_weighted")["target"]
        < scores(undiscounted, "pagerank_weighted")["target"]
    )
    assert scores(discounted, "pagerank_raw") == scores(undiscounted, "pagerank_raw")


def test_nofollow_and_links_to_ineligible_pages_evaporate_in_the_policy_variant() -> None:
    nodes = nodes_table(["a", "b", "c", "gone"], [True, True, True, False])
    edges = edges_table(
        [
            ("a", "b", "content", 1.0, True),
            ("a", "c", "content", 1.0, False),  # nofollow
            ("a", "gone", "content", 1.0, True),  # 404
            ("b", "a", "content", 1.0, True),
            ("c", "a", "content", 1.0, True),
        ]
    )
    evaporating = compute_link_equity(nodes, edges, TIGHT)
    dropping = compute_link_equity(
        nodes,
        edges,
        PageRankSettings(tol=TIGHT_TOL, nofollow="drop", links_to_ineligible="drop"),
    )
    assert evaporating.runs["policy"].n_evaporating_edges == 2
    assert scores(evaporating, "pagerank_policy")["b"] < scores(dropping, "pagerank_policy")["b"]
    # With both dropped, the policy graph is the weighted graph (content links, weight 1).
    assert scores(dropping, "pagerank_policy")["b"] == pytest.approx(
        scores(dropping, "pagerank_weighted")["b"], rel=1e-12
    )
    total = sum(v for v in scores(evaporating, "pagerank_policy").values() if v is not None)
    assert total < 1.0


def test_nofollow_follow_counts_nofollow_links_as_followed_in_every_variant() -> None:
    nodes = nodes_table(["a", "b", "c"])
    rows = [("a", "b", "content"), ("a", "c", "footer"), ("b", "a"), ("c", "a")]
    with_nofollow = edges_table([*rows[:1], ("a", "c", "footer", 1.0, False), *rows[2:]])
    follow = compute_link_equity(
        nodes, with_nofollow, PageRankSettings(tol=TIGHT_TOL, nofollow="follow")
    )
    all_followed = compute_link_equity(nodes, edges_table(rows), TIGHT)
    evaporate = compute_link_equity(nodes, with_nofollow, TIGHT)
    for column in ("pagerank_raw", "pagerank_weighted", "pagerank_policy", "pagerank_tipr"):
        got, want = scores(follow, column), scores(all_followed, column)
        assert got == pytest.approx(want, rel=1e-12), column
    assert follow.runs["policy"].n_evaporating_edges == 0
    assert scores(follow, "pagerank_raw")["c"] > scores(evaporate, "pagerank_raw")["c"]
    assert follow.run_info()["settings"]["nofollow"] == "follow"


def test_redirect_retention_weight_lowers_what_a_folded_link_passes() -> None:
    nodes = nodes_table(["home", "x", "y"])
    edges = edges_table(
        [
            ("home", "x", "content", 1.0),
            ("home", "y", "content", 0.9**2),
            ("x", "home"),
            ("y", "home"),
        ]
    )
    result = compute_link_equity(nodes, edges)
    assert scores(result, "pagerank_raw")["x"] == pytest.approx(scores(result, "pagerank_raw")["y"])
    assert scores(result, "pagerank_policy")["x"] > scores(result, "pagerank_policy")["y"]


def test_tipr_lifts_the_page_with_backlinks_and_its_neighbours() -> None:
    keys = ["home", "backlinked", "neighbour", "far", "other"]
    nodes = nodes_table(keys, rd=[0, 250, 0, 0, 0])
    edges = edges_table(
        [
            ("home", "backlinked"),
            ("home", "far"),
            ("home", "other"),
            ("backlinked", "neighbour"),
            ("neighbour", "home"),
            ("far", "home"),
            ("other", "home"),
        ]
    )
    result = compute_link_equity(nodes, edges)
    policy, tipr = scores(result, "pagerank_policy"), scores(result, "pagerank_tipr")
    assert tipr["backlinked"] > policy["backlinked"]
    assert tipr["neighbour"] > policy["neighbour"]
    assert tipr["far"] < policy["far"]
    no_mix = compute_link_equity(nodes, edges, PageRankSettings(tipr_mix=0.0))
    assert scores(no_mix, "pagerank_tipr") == pytest.approx(scores(no_mix, "pagerank_policy"))


def test_tipr_without_any_backlink_is_the_policy_rank() -> None:
    nodes, edges = hub_graph("content", "nav")
    result = compute_link_equity(nodes, edges, TIGHT)
    assert scores(result, "pagerank_tipr") == pytest.approx(scores(result, "pagerank_policy"))


def test_link_score_follows_the_chosen_variant_with_the_top_page_at_100() -> None:
    nodes, edges = random_tables(5)
    for variant in ("raw", "policy", "tipr"):
        result = compute_link_equity(nodes, edges, PageRankSettings(link_score_variant=variant))
        table = result.table.filter(result.table.column("link_score").is_valid())
        pr = np.array(table.column(f"pagerank_{variant}").to_pylist())
        ls = np.array(table.column("link_score").to_pylist())
        assert ls.max() == pytest.approx(100.0) and ls[np.argmax(pr)] == pytest.approx(100.0)
        order = np.argsort(pr, kind="stable")
        assert np.all(np.diff(ls[order]) >= -1e-12)
        assert ls.min() >= 0


def test_hoarders_keep_equity_and_wasters_spread_little_of_it() -> None:
    settings = PageRankSettings()
    tipr = np.array([0.30, 0.20, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.02, 0.02, 0.06])
    outlinks = np.array([2, 10, 10, 10, 10, 10, 10, 10, 10, 40, 9, 10])
    hoarder, waster = hoarders_and_wasters(tipr, outlinks, settings)
    assert hoarder.tolist() == [True] + [False] * 11  # top decile of TIPR, <= 5 outlinks
    assert np.flatnonzero(waster).tolist() == [9]  # bottom half of TIPR, >= 20 outlinks


def test_hoarder_and_waster_flags_on_a_site() -> None:
    # "vault" has the backlinks and a single link out; "spray" gets one link and links to all.
    keys = ["home", "vault", "spray"] + [f"p{i}" for i in range(20)]
    rd = [0, 500] + [0] * 21
    rows = [("home", k) for k in keys[1:]] + [(k, "home") for k in keys[3:]]
    rows += [(k, "vault") for k in keys[3:]] + [(k, "p0") for k in keys[4:]]
    rows += [("vault", "home")] + [("spray", k) for k in keys if k != "spray"]
    result = compute_link_equity(nodes_table(keys, rd=rd), edges_table(rows))
    hoarders = scores(result, "is_hoarder")
    wasters = scores(result, "is_waster")
    assert hoarders["vault"] and not wasters["vault"]
    assert wasters["spray"] and not hoarders["spray"]


def test_empty_and_degenerate_inputs() -> None:
    nothing = compute_link_equity(nodes_table([]), edges_table([]))
    assert nothing.table.num_rows == 0
    all_ineligible = compute_link_equity(
        nodes_table(["a", "b"], [False, False]), edges_table([("a", "b")])
    )
    assert all_ineligible.table.column("pagerank_raw").null_count == 2
    no_edges = compute_link_equity(nodes_table(["a", "b"]), edges_table([]))
    assert scores(no_edges, "pagerank_raw") == pytest.approx({"a": 0.5, "b": 0.5})
    assert scores(no_edges, "link_score") == pytest.approx({"a": 100.0, "b": 100.0})


def test_minimal_tables_use_the_documented_defaults() -> None:
    nodes = pa.table({"url_key": ["a", "b", "c"]})
    edges = pa.table({"source_key": ["a", "b", "c"], "target_key": ["b", "c", "a"]})
    result = compute_link_equity(nodes, edges)
    assert scores(result, "pagerank_raw") == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert result.stats["n_unknown_position_edges"] == 3


@pytest.mark.parametrize(
    ("nodes", "edges", "error"),
    [
        (
            pa.table({"url_key": ["a", "a"]}),
            pa.table({"source_key": ["a"], "target_key": ["a"]}),
            ValueError,
        ),
        (pa.table({"key": ["a"]}), pa.table({"source_key": ["a"], "target_key": ["a"]}), KeyError),
        (pa.table({"url_key": ["a"]}), pa.table({"from": ["a"], "to": ["a"]}), KeyError),
        (
            pa.table({"url_key": ["a"]}),
            pa.table({"source_key": ["a"], "target_key": ["a"], "weight": [-1.0]}),
            ValueError,
        ),
        (
            pa.table({"url_key": ["a"], "referring_domains": [-3]}),
            pa.table({"source_key": ["a"], "target_key": ["a"]}),
            ValueError,
        ),
    ],
)
def test_tables_breaking_the_contract_are_refused(nodes, edges, error) -> None:
    with pytest.raises(error):
        compute_link_equity(nodes, edges)
