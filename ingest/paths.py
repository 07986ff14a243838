"""Where landing files live: `$LINKWAREHOUSE_DATA/landing/<source>/<site>/<run>/`.

Kept in the plain library (not in orchestration) because the CLI, Dagster and the tests must agree
on one layout, and dbt sources glob over it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path


def data_dir() -> Path:
    """The data folder: `$LINKWAREHOUSE_DATA`, default `./data` (git-ignored)."""
    return Path(os.environ.get("LINKWAREHOUSE_DATA", "data")).resolve()


def landing_dir(source: str, site_id: str, base: Path | None = None) -> Path:
    return (base or data_dir()) / "landing" / source / site_id


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, filesystem-safe run id (UTC, to the microsecond so quick reruns never collide)."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def is_finished_run(run_dir: Path) -> bool:
    return (run_dir / "crawl_run.json").exists()


def crawl_run_dir_for(site_id: str, base: Path | None = None) -> Path:
    """The run folder a new crawl of `site_id` should use.

    An unfinished run (killed mid-crawl: state but no `crawl_run.json`) is resumed rather than
    started over, so a crash costs only the pages that were in flight.
    """
    root = landing_dir("crawl", site_id, base)
    if root.exists():
        runs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if runs and not is_finished_run(runs[-1]) and (runs[-1] / ".state").exists():
            return runs[-1]
    return root / new_run_id()


def latest_finished_run(site_id: str, base: Path | None = None) -> Path | None:
    root = landing_dir("crawl", site_id, base)
    if not root.exists():
        return None
    runs = sorted(p for p in root.iterdir() if p.is_dir() and is_finished_run(p))
    return runs[-1] if runs else None
