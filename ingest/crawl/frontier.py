"""Disk-backed crawl frontier: the seen set, the queue and the resume state in one SQLite file.

Why SQLite: the seen set of a million-page site does not fit comfortably in a crawler that must
stay under a few hundred MB, and a crash must not lose it. One table keyed by `url_key` holds
every URL the crawl has decided anything about (queued, in flight, done, skipped with a reason),
so dedupe, BFS order (depth, then discovery order) and resume all come from the same rows.

Durability contract used by the crawler: part files are written (and fsynced) first, then one
transaction records them and marks their URLs done. WAL with `synchronous=NORMAL` makes each
commit cheap and survives a killed process; `reset_in_flight()` on open puts URLs that were being
fetched back in the queue.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

Hop = tuple[str, int | None]


class State(IntEnum):
    QUEUED = 0
    IN_FLIGHT = 1
    DONE = 2
    SKIPPED = 3


# Skip reasons a later discovery may lift: a shallower path (max_depth) or a followed link
# (nofollow). Exclusions and pattern limits are final.
LIFTABLE_REASONS = ("max_depth", "nofollow")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    seq INTEGER PRIMARY KEY,
    url_key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    depth INTEGER NOT NULL,
    found_on TEXT,
    state INTEGER NOT NULL,
    reason TEXT,
    status INTEGER,
    final_url TEXT,
    final_status INTEGER,
    chain TEXT
);
CREATE INDEX IF NOT EXISTS urls_queue ON urls(depth, seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS urls_state ON urls(state);
CREATE TABLE IF NOT EXISTS parts (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    rows INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_UPSERT = """
INSERT INTO urls (url_key, url, depth, found_on, state, reason) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT(url_key) DO UPDATE SET
    depth = excluded.depth, found_on = excluded.found_on,
    state = excluded.state, reason = excluded.reason
WHERE excluded.state = 0 AND (
    (urls.state = 0 AND excluded.depth < urls.depth)
    OR (urls.state = 3 AND urls.reason IN ('max_depth', 'nofollow'))
)
"""


@dataclass(frozen=True)
class NewUrl:
    """A URL to record: queued, or skipped with `reason` (kept so it is reported once)."""

    url_key: str
    url: str
    depth: int
    found_on: str | None
    state: State = State.QUEUED
    reason: str | None = None


@dataclass(frozen=True)
class QueuedUrl:
    url_key: str
    url: str
    depth: int
    found_on: str | None


@dataclass(frozen=True)
class DoneUrl:
    """A URL that has its row in a recorded part, with the outcome redirect hops may reuse."""

    url_key: str
    url: str
    depth: int
    found_on: str | None
    status: int | None
    final_url: str | None
    final_status: int | None
    chain: Sequence[Hop] | None = None


@dataclass(frozen=True)
class UrlRecord:
    url_key: str
    url: str
    depth: int
    found_on: str | None
    state: State
    reason: str | None
    status: int | None
    final_url: str | None
    final_status: int | None
    chain: tuple[Hop, ...] | None


class Frontier:
    """The SQLite file behind a crawl. Single-threaded use (the crawler's event loop)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.execute("PRAGMA cache_size=-16000")  # 16 MB page cache: bounded memory
        self._db.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        self._db.close()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; nested use joins the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        self._depth = 0
        self._db.execute("COMMIT")

    # -- writes ------------------------------------------------------------------------------

    def reset_in_flight(self) -> int:
        """Resume: URLs being fetched when the last process died go back to the queue."""
        with self.transaction():
            cur = self._db.execute(
                "UPDATE urls SET state = ? WHERE state = ?", (State.QUEUED, State.IN_FLIGHT)
            )
        return cur.rowcount

    def add(self, urls: Iterable[NewUrl]) -> None:
        """Record discovered URLs. Existing rows keep their state unless a queued discovery
        finds a shallower path or lifts a liftable skip (see LIFTABLE_REASONS)."""
        rows = [(u.url_key, u.url, u.depth, u.found_on, int(u.state), u.reason) for u in urls]
        if rows:
            with self.transaction():
                self._db.executemany(_UPSERT, rows)

    def claim(
        self,
        limit: int,
        exclude: set[str] | frozenset[str] = frozenset(),
        depth: int | None = None,
    ) -> list[QueuedUrl]:
        """Take up to `limit` queued URLs in BFS order (only `depth` if given), mark in flight."""
        if limit <= 0:
            return []
        where = "state = 0" if depth is None else "state = 0 AND depth = ?"
        params: list[int] = [] if depth is None else [depth]
        with self.transaction():
            rows = self._db.execute(
                f"SELECT seq, url_key, url, depth, found_on FROM urls WHERE {where} "
                "ORDER BY depth, seq LIMIT ?",
                (*params, limit + len(exclude)),
            ).fetchall()
            picked = [r for r in rows if r[1] not in exclude][:limit]
            self._db.executemany(
                "UPDATE urls SET state = 1 WHERE seq = ?", [(r[0],) for r in picked]
            )
        return [QueuedUrl(r[1], r[2], r[3], r[4]) for r in picked]

    def min_queued_depth(self, exclude: set[str] | frozenset[str] = frozenset()) -> int | None:
        """Depth of the shallowest queued URL not in `exclude` (the BFS level to work on)."""
        rows = self._db.execute(
            "SELECT url_key, depth FROM urls WHERE state = 0 ORDER BY depth, seq LIMIT ?",
            (len(exclude) + 1,),
        ).fetchall()
        for key, depth in rows:
            if key not in exclude:
                return depth
        return None

    def release(self, keys: Iterable[str]) -> None:
        """Put claimed-but-unprocessed URLs back in the queue."""
        rows = [(k,) for k in keys]
        if rows:
            with self.transaction():
                self._db.executemany(
                    "UPDATE urls SET state = 0 WHERE url_key = ? AND state = 1", rows
                )

    def mark_done(self, done: Iterable[DoneUrl]) -> None:
        """Mark URLs done (inserting hop URLs never queued), storing their outcome."""
        rows = [
            (
                d.url_key,
                d.url,
                d.depth,
                d.found_on,
                d.status,
                d.final_url,
                d.final_status,
                json.dumps(d.chain) if d.chain is not None else None,
            )
            for d in done
        ]
        if rows:
            with self.transaction():
                self._db.executemany(
                    "INSERT INTO urls (url_key, url, depth, found_on, state, status, final_url, "
                    "final_status, chain) VALUES (?, ?, ?, ?, 2, ?, ?, ?, ?) "
                    "ON CONFLICT(url_key) DO UPDATE SET state = 2, reason = NULL, "
                    "depth = excluded.depth, found_on = excluded.found_on, "
                    "status = excluded.status, final_url = excluded.final_url, "
                    "final_status = excluded.final_status, chain = excluded.chain",
                    rows,
                )

    def record_parts(self, parts: Iterable[tuple[str, str, int]]) -> None:
        rows = list(parts)
        if rows:
            with self.transaction():
                self._db.executemany(
                    "INSERT OR REPLACE INTO parts (name, kind, rows) VALUES (?, ?, ?)", rows
                )

    def set_meta(self, key: str, value: object) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    def get_meta(self, key: str, default: object = None) -> object:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- reads -------------------------------------------------------------------------------

    def lookup(self, url_key: str) -> UrlRecord | None:
        row = self._db.execute(
            "SELECT url_key, url, depth, found_on, state, reason, status, final_url, "
            "final_status, chain FROM urls WHERE url_key = ?",
            (url_key,),
        ).fetchone()
        if row is None:
            return None
        chain = tuple(tuple(h) for h in json.loads(row[9])) if row[9] else None
        return UrlRecord(
            row[0],
            row[1],
            row[2],
            row[3],
            State(row[4]),
            row[5],
            row[6],
            row[7],
            row[8],
            chain,  # type: ignore[arg-type]
        )

    def existing(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are already recorded (in chunks: SQLite limits bound parameters)."""
        keys = list(keys)
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self._db.execute(
                    f"SELECT url_key FROM urls WHERE url_key IN ({marks})", chunk
                )
            )
        return found

    def count(self, state: State) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM urls WHERE state = ?", (int(state),)
        ).fetchone()[0]

    def has_queued(self) -> bool:
        return self._db.execute("SELECT 1 FROM urls WHERE state = 0 LIMIT 1").fetchone() is not None

    def parts(self, kind: str | None = None) -> list[tuple[str, str, int]]:
        if kind is None:
            rows = self._db.execute("SELECT name, kind, rows FROM parts ORDER BY name")
        else:
            rows = self._db.execute(
                "SELECT name, kind, rows FROM parts WHERE kind = ? ORDER BY name", (kind,)
            )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def iter_state(
        self, states: Sequence[State], batch: int = 5000
    ) -> Iterator[list[tuple[str, str, int, str | None, int, str | None]]]:
        """Rows (url_key, url, depth, found_on, state, reason) in `states`, in batches."""
        marks = ",".join("?" * len(states))
        cur = self._db.execute(
            f"SELECT url_key, url, depth, found_on, state, reason FROM urls "
            f"WHERE state IN ({marks}) ORDER BY seq",
            [int(s) for s in states],
        )
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield rows
