"""Crawl progress: what a running crawl reports to logs and to an optional callback.

A separate small module so the CLI, the Dagster asset and tests can consume progress without
importing the crawler's machinery.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

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
