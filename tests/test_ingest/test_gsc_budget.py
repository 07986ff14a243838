"""Per-property budgets: the per-minute limiter and the persisted daily inspection ledger."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

from ingest.gsc.budget import InspectionBudget, RateLimiter, limiter_for, pacific_today


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_limiter_waits_only_when_a_minute_already_holds_the_limit() -> None:
    clock = _Clock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert limiter.acquire() == 0.0
        clock.now += 1.0
    waited = limiter.acquire()  # the 4th call within 60 s waits for the first to age out
    assert waited == clock.slept[0] == 57.0
    assert limiter.acquire() == 1.0  # the 2nd call ages out one second later


def test_the_pacific_day_is_used_for_quotas() -> None:
    # 2026-11-25 05:00 UTC is still the 24th in California.
    assert pacific_today(datetime(2026, 11, 25, 5, 0, tzinfo=UTC)) == date(2026, 11, 24)
    assert pacific_today(datetime(2026, 11, 25, 9, 0, tzinfo=UTC)) == date(2026, 11, 25)


def test_the_daily_budget_survives_a_restart_and_is_kept_per_property(tmp_path: Path) -> None:
    path = tmp_path / "state" / "gsc_budget.sqlite"
    day = date(2026, 11, 25)
    first = InspectionBudget(path, daily_limit=3, today=lambda: day)
    assert first.try_consume("sc-domain:a.example")
    assert first.try_consume("sc-domain:a.example", 2)
    assert not first.try_consume("sc-domain:a.example")
    again = InspectionBudget(path, daily_limit=3, today=lambda: day)
    assert again.used("sc-domain:a.example") == 3 and again.remaining("sc-domain:a.example") == 0
    assert again.try_consume("sc-domain:b.example")  # another property has its own budget


def test_a_new_pacific_day_starts_a_fresh_budget(tmp_path: Path) -> None:
    days = iter([date(2026, 11, 24), date(2026, 11, 25)])
    today = {"value": next(days)}
    budget = InspectionBudget(tmp_path / "b.sqlite", daily_limit=1, today=lambda: today["value"])
    assert budget.try_consume("p") and not budget.try_consume("p")
    today["value"] = next(days)
    assert budget.try_consume("p")


def test_concurrent_consumers_never_overspend_the_day(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    InspectionBudget(path, daily_limit=50)
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        budget = InspectionBudget(path, daily_limit=50)
        for _ in range(20):
            ok = budget.try_consume("p")
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 50
    assert InspectionBudget(path, daily_limit=50).used("p") == 50


def test_one_property_shares_one_limiter_per_kind_whatever_rate_each_setting_asks() -> None:
    prop = "sc-domain:shared-limiter.example"
    loose = limiter_for(prop, "query", 600)
    strict = limiter_for(prop, "query", 200)
    assert strict is loose and loose.per_minute == 200  # the stricter setting wins
    assert limiter_for(prop, "query", 900).per_minute == 200  # and is never loosened
    assert limiter_for(prop, "inspect", 300) is not loose
    assert limiter_for("sc-domain:other-limiter.example", "query", 600) is not loose
