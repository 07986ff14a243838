"""A human-sized summary of a finished crawl run, read back from its landing files.

The CLI, the Dagster asset metadata and `make demo` all print the same figures, so they are
computed in one place from what actually landed (not from the crawler's in-memory counters).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.landing import read_crawl_run


@dataclass(frozen=True)
class RunReport:
    run_dir: Path
    pages: int
    links: int
    errors: int
    complete: bool
    stop_reason: str | None
    pages_per_s: float | None
    pages_by_state: dict[str, int] = field(default_factory=dict)
    pages_by_status: dict[str, int] = field(default_factory=dict)
    links_by_position: dict[str, int] = field(default_factory=dict)
    internal_links: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Plain-text summary for terminals and logs."""
        out = [
            f"crawl run: {self.run_dir}",
            f"  complete: {self.complete} (stop reason: {self.stop_reason})",
            f"  pages: {self.pages} at {self.pages_per_s or 0:.0f} pages/s  "
            + "  ".join(f"{k}={v}" for k, v in sorted(self.pages_by_state.items())),
            "  status codes: "
            + "  ".join(f"{k}={v}" for k, v in sorted(self.pages_by_status.items())),
            f"  links: {self.links} ({self.internal_links} internal)",
        ]
        for position, n in sorted(self.links_by_position.items(), key=lambda kv: -kv[1]):
            out.append(f"    {position:<11} {n:>8}")
        out.append(
            f"  errors: {self.errors}  "
            + "  ".join(f"{k}={v}" for k, v in sorted(self.errors_by_kind.items()))
        )
        out.append(f"  files: {self.run_dir}/{{pages,links,errors}}.parquet, crawl_run.json")
        return out


def _counts(path: Path, column: str) -> Counter[str]:
    """Value counts of one column. ParquetFile.read, not pq.read_table: the latter imports
    pyarrow.dataset (and pandas through it), ~50 MB of RSS at the end of a crawl."""
    column_values = pq.ParquetFile(path).read(columns=[column]).column(column)
    counts: Counter[str] = Counter()
    for item in pc.value_counts(column_values).to_pylist():
        value = item["values"]
        counts["null" if value is None else str(value)] += item["counts"]
    return counts


def report_run(run_dir: Path) -> RunReport:
    run_dir = Path(run_dir)
    run = read_crawl_run(run_dir)
    by_state = _counts(run_dir / "pages.parquet", "crawl_state")
    by_status = _counts(run_dir / "pages.parquet", "status")
    by_position = _counts(run_dir / "links.parquet", "position")
    internal = _counts(run_dir / "links.parquet", "is_internal").get("True", 0)
    by_kind = _counts(run_dir / "errors.parquet", "kind")
    return RunReport(
        run_dir=run_dir,
        pages=sum(by_state.values()),
        links=sum(by_position.values()),
        errors=sum(by_kind.values()),
        complete=bool(run.get("complete")),
        stop_reason=run.get("stop_reason"),
        pages_per_s=run.get("pages_per_s"),
        pages_by_state=dict(by_state),
        pages_by_status=dict(by_status),
        links_by_position=dict(by_position),
        internal_links=internal,
        errors_by_kind=dict(by_kind),
        run=run,
    )
