"""Quota budgets per Search Console property: a per-minute request limiter and a daily ledger.

Search Console counts quota per property (site): 1,200 search-analytics queries and 600 URL
inspections per minute, and 2,000 inspections per day. The per-minute limit is kept in process
(a sliding window shared by every client of the property); the daily inspection budget must
survive restarts and be shared by concurrent runs, so it is a row per (property, Pacific day) in
a SQLite file under `$LINKWAREHOUSE_DATA/state/`. Google's day ends at midnight Pacific time.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.paths import data_dir

PACIFIC = ZoneInfo("America/Los_Angeles")


def pacific_today(now: datetime | None = None) -> date:
    """Search Console dates and daily quotas are in Pacific time, not UTC."""
    return (now or datetime.now(PACIFIC)).astimezone(PACIFIC).date()


class RateLimiter:
    """At most `per_minute` calls in any 60 s window; `acquire` sleeps until a slot is free."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def lower_to(self, per_minute: int) -> None:
        """Tighten the limit (never loosen it: the strictest client of the property wins)."""
        with self._lock:
            self.per_minute = min(self.per_minute, per_minute)

    def acquire(self) -> float:
        """Take a slot; returns the seconds waited (0.0 when under the limit)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._calls and now - self._calls[0] >= 60.0:
                    self._calls.popleft()
                if len(self._calls) < self.per_minute:
                    self._calls.append(now)
                    return waited
                delay = 60.0 - (now - self._calls[0])
            self._sleep(delay)
            waited += delay


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(property_url: str, kind: str, per_minute: int) -> RateLimiter:
    """The process-wide limiter of one property and request kind (`query` or `inspect`).

    Keyed by property and kind only: Google's quota is per property, so two settings naming the
    same property with different rates share one limiter, which keeps the stricter rate.
    """
    key = (property_url, kind)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = RateLimiter(per_minute)
        else:
            limiter.lower_to(per_minute)
        return limiter


def default_budget_path(base: Path | None = None) -> Path:
    return (base or data_dir()) / "state" / "gsc_budget.sqlite"


class InspectionBudget:
    """Persisted count of URL inspections per property and Pacific day.

    `try_consume` is one immediate transaction, so two processes inspecting the same property
    never overspend the day between them.
    """

    def __init__(
        self, path: Path, daily_limit: int, today: Callable[[], date] = pacific_today
    ) -> None:
        self.path = path
        self.daily_limit = daily_limit
        self._today = today
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS inspection_budget ("
                " property_url TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL,"
                " PRIMARY KEY (property_url, day))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def used(self, property_url: str, day: date | None = None) -> int:
        day = day or self._today()
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT used FROM inspection_budget WHERE property_url = ? AND day = ?",
                (property_url, day.isoformat()),
            ).fetchone()
        return int(row[0]) if row else 0

    def remaining(self, property_url: str, day: date | None = None) -> int:
        return max(0, self.daily_limit - self.used(property_url, day))

    def try_consume(self, property_url: str, n: int = 1) -> bool:
        """Spend `n` inspections of today's budget; False (and nothing spent) if not enough left."""
        day = self._today().isoformat()
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT used FROM inspection_budget WHERE property_url = ? AND day = ?",
                    (property_url, day),
                ).fetchone()
                used = int(row[0]) if row else 0
                if used + n > self.daily_limit:
                    db.execute("ROLLBACK")
                    return False
                db.execute(
                    "INSERT INTO inspection_budget (property_url, day, used) VALUES (?, ?, ?)"
                    " ON CONFLICT (property_url, day) DO UPDATE SET used = used + excluded.used",
                    (property_url, day, n),
                )
                db.execute("COMMIT")
                return True
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
