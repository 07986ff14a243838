"""The SQLite frontier: dedupe, BFS order, skip reasons, done outcomes and resume."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.crawl.frontier import DoneUrl, Frontier, NewUrl, State
from ingest.urls import url_key


def new(url: str, depth: int = 0, state: State = State.QUEUED, reason: str | None = None) -> NewUrl:
    return NewUrl(url_key(url), url, depth, None, state, reason)


def test_a_url_is_queued_once_whatever_how_often_it_is_found(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    frontier.add([new("http://a/1", 1), new("http://a/1", 1), new("http://a/2", 1)])
    frontier.add([new("http://a/1", 2)])
    assert frontier.count(State.QUEUED) == 2


def test_claims_come_in_bfs_order_and_are_marked_in_flight(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    frontier.add([new("http://a/deep", 2), new("http://a/one", 1), new("http://a/zero", 0)])
    frontier.add([new("http://a/one-b", 1)])
    claimed = frontier.claim(3)
    assert [c.url for c in claimed] == ["http://a/zero", "http://a/one", "http://a/one-b"]
    assert frontier.count(State.IN_FLIGHT) == 3
    assert frontier.min_queued_depth() == 2
    assert [c.url for c in frontier.claim(10)] == ["http://a/deep"]
    assert frontier.claim(10) == []
    assert frontier.min_queued_depth() is None


def test_claim_can_be_limited_to_one_level_and_skip_excluded_keys(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    frontier.add([new("http://a/1", 1), new("http://a/2", 1), new("http://a/3", 2)])
    got = frontier.claim(10, exclude={url_key("http://a/1")}, depth=1)
    assert [c.url for c in got] == ["http://a/2"]


def test_a_shallower_discovery_lowers_the_depth_of_a_queued_url(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    frontier.add([new("http://a/x", 3)])
    frontier.add([new("http://a/x", 1)])
    record = frontier.lookup(url_key("http://a/x"))
    assert record is not None and record.depth == 1


def test_a_max_depth_skip_is_lifted_by_a_queued_discovery_but_an_exclusion_is_not(
    tmp_path: Path,
) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    frontier.add([new("http://a/deep", 5, State.SKIPPED, "max_depth")])
    frontier.add([new("http://a/excl", 1, State.SKIPPED, "excluded")])
    frontier.add([new("http://a/deep", 2), new("http://a/excl", 1)])
    deep = frontier.lookup(url_key("http://a/deep"))
    excl = frontier.lookup(url_key("http://a/excl"))
    assert deep is not None and deep.state == State.QUEUED and deep.depth == 2
    assert excl is not None and excl.state == State.SKIPPED and excl.reason == "excluded"


def test_done_urls_keep_their_outcome_for_redirect_hops(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    chain = (("http://a/old", 301), ("http://a/new", 200))
    with frontier.transaction():
        frontier.mark_done(
            [
                DoneUrl(
                    url_key("http://a/old"),
                    "http://a/old",
                    1,
                    None,
                    301,
                    "http://a/new",
                    200,
                    chain,
                )
            ]
        )
        frontier.record_parts([("000001-pages.parquet", "pages", 1)])
    record = frontier.lookup(url_key("http://a/old"))
    assert record is not None
    assert record.state == State.DONE
    assert record.chain == chain
    assert record.final_status == 200
    assert frontier.parts("pages") == [("000001-pages.parquet", "pages", 1)]


def test_reopening_requeues_what_was_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    frontier = Frontier(path)
    frontier.add([new(f"http://a/{i}", 1) for i in range(5)])
    frontier.claim(3)
    frontier.set_meta("started_at", "x")
    # No close(): a killed process does not get to close anything.
    reopened = Frontier(path)
    assert reopened.get_meta("started_at") == "x"
    assert reopened.reset_in_flight() == 3
    assert reopened.count(State.QUEUED) == 5


def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    try:
        with frontier.transaction():
            frontier.add([new("http://a/1")])
            raise RuntimeError("crash between part file and commit")
    except RuntimeError:
        pass
    assert frontier.count(State.QUEUED) == 0
    assert frontier.parts() == []


def test_the_database_uses_wal_with_normal_sync(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    Frontier(path).add([new("http://a/1")])
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_existing_answers_in_chunks_for_many_keys(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    urls = [f"http://a/{i}" for i in range(1200)]
    frontier.add([new(u) for u in urls[::2]])
    found = frontier.existing(url_key(u) for u in urls)
    assert len(found) == 600


def test_iter_state_streams_skipped_and_queued_rows(tmp_path: Path) -> None:
    frontier = Frontier(tmp_path / "f.sqlite")
    frontier.add([new("http://a/q", 1), new("http://a/s", 9, State.SKIPPED, "max_depth")])
    rows = [
        r for batch in frontier.iter_state([State.SKIPPED, State.QUEUED], batch=1) for r in batch
    ]
    assert {(r[1], r[5]) for r in rows} == {("http://a/q", None), ("http://a/s", "max_depth")}
