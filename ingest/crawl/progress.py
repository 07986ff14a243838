"""What a crawl reports: progress snapshots while it runs, the summary (crawl_run.json) after.

A separate small module so the CLI, the Dagster asset and tests can consume both without
importing the crawler's machinery.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.landing import read_crawl_run

log = logging.getLogger("ingest.crawl")


@dataclass(frozen=True)
class CrawlProgress:
    """A snapshot taken every `progress_interval_s` (and once at the end)."""

    site_id: str
    elapsed_s: float
    pages: int  # rows landed so far, this run and resumed ones
    pages_per_s: float  # over this process's crawl time
    queued: int
    in_flight: int
    errors: int
    links: int
    concurrency: int
    slowdowns: int
    final: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def message(self) -> str:
        return (
            f"crawl {self.site_id}: {self.pages} pages ({self.pages_per_s:.0f}/s), "
            f"{self.queued} queued, {self.in_flight} in flight, {self.errors} errors, "
            f"{self.links} links, concurrency {self.concurrency}"
            + (f", {self.slowdowns} slowdowns" if self.slowdowns else "")
        )


def log_progress(progress: CrawlProgress) -> None:
    log.info(progress.message())


@dataclass(frozen=True)
class CrawlSummary:
    """What a finished (or stopped) crawl reports; mirrors crawl_run.json."""

    site_id: str
    run_dir: Path
    started_at: str
    finished_at: str
    stop_reason: str
    complete: bool
    message: str | None
    counts: dict[str, Any]
    pages_per_s: float
    transport: str
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pages_path(self) -> Path:
        return self.run_dir / "pages.parquet"

    @property
    def links_path(self) -> Path:
        return self.run_dir / "links.parquet"

    @property
    def errors_path(self) -> Path:
        return self.run_dir / "errors.parquet"

    @classmethod
    def from_run_dir(cls, run_dir: Path) -> CrawlSummary:
        data = read_crawl_run(run_dir)
        return cls(
            site_id=data["site_id"],
            run_dir=Path(run_dir),
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            stop_reason=data["stop_reason"],
            complete=data["complete"],
            message=data.get("message"),
            counts=data["counts"],
            pages_per_s=data["pages_per_s"],
            transport=data["transport"],
            data=data,
        )


def landed_counts(
    pages: list[dict[str, Any]], errors: list[dict[str, Any]], n_links: int
) -> Counter[str]:
    """Counters of rows as they land (kept in the frontier, so exact across resumes)."""
    counts: Counter[str] = Counter()
    counts["pages"] += len(pages)
    counts["links"] += n_links
    counts["errors"] += len(errors)
    counts.update("state:" + p["crawl_state"] for p in pages)
    for e in errors:
        counts["kind:" + e["kind"]] += 1
        counts["stage:" + e["stage"]] += 1
        if e["stage"] == "scope":
            counts["scope:" + e["kind"]] += 1
    return counts


def summary_counts(landed: Counter[str]) -> dict[str, Any]:
    def by(prefix: str) -> dict[str, int]:
        n = len(prefix)
        return dict(sorted((k[n:], v) for k, v in landed.items() if k.startswith(prefix) and v))

    return {
        "pages": landed["pages"],
        "links": landed["links"],
        "errors": landed["errors"],
        "pages_by_state": by("state:"),
        "errors_by_kind": by("kind:"),
        "errors_by_stage": by("stage:"),
        "skipped_by_reason": by("scope:"),
    }
