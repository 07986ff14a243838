"""The records of a sitemap run: its options, the files it reads, what each gave, the summary.

Kept apart from `collect.py` (the traversal) so the Dagster asset, the CLI and the tests can
name these types without the run machinery, and so each module stays readable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.config import SiteConfig
from ingest.sitemaps.audit import is_over_size_limit, is_over_url_limit
from ingest.sitemaps.dates import lastmod_micros
from ingest.sitemaps.decode import MIB


@dataclass(frozen=True)
class SitemapOptions:
    """How far and how hard to read; defaults suit any real site."""

    max_depth: int = 5  # index nesting below a root (Google allows one level; some sites nest)
    max_sitemaps: int = 10_000  # files per run
    max_bytes: int = 100 * MIB  # per file, after decompression (the bomb cap)
    concurrency: int = 4
    probe_defaults: bool = True  # /sitemap.xml and /sitemap_index.xml when nothing names one
    check_robots: bool = True  # per-URL robots verdicts for our agent and Googlebot
    file_timeout_s: float = 300.0
    batch_rows: int = 16_384
    fast_xml: bool = True  # the ElementTree reader for plain urlsets/indexes (see xmlfast.py)

    @classmethod
    def for_site(cls, site: SiteConfig, **overrides: Any) -> SitemapOptions:
        """Options from the site config's `sitemap_settings` block (fields it leaves unset keep
        the defaults above), then `overrides`."""
        block = site.sitemap_settings
        values: dict[str, Any] = {} if block is None else block.model_dump(exclude_none=True)
        values.update(overrides)
        return cls(**values)


@dataclass
class Target:
    """One sitemap to read, numbered in discovery order."""

    order: int
    url: str
    source: str
    parent: str | None
    depth: int
    is_file: bool = False
    lastmod_raw: str | None = None


@dataclass
class FileResult:
    """What reading one sitemap file gave: its sitemaps.parquet row and its children."""

    target: Target
    kind: str | None = None
    status: int | None = None
    content_type: str | None = None
    final_url: str | None = None
    redirects: list[str] = field(default_factory=list)
    bytes: int = 0
    compressed_bytes: int = 0
    is_gzip: bool = False
    is_partial: bool = False
    error_kind: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    children: list[tuple[str, str | None]] = field(default_factory=list)
    n_urls: int = 0
    n_invalid: int = 0
    n_cross_host: int = 0
    n_robots_blocked: int = 0
    n_googlebot_blocked: int = 0
    n_children_cross_host: int = 0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    response_ms: float | None = None

    def row(self, duplicates: tuple[int, int] = (0, 0)) -> dict[str, Any]:
        t = self.target
        n_children = len(self.children)
        return {
            "sitemap_url": t.url,
            "parent": t.parent,
            "kind": self.kind,
            "status": self.status,
            "content_type": self.content_type,
            "bytes": self.bytes,
            "n_urls": self.n_urls if self.kind != "index" else n_children,
            "warnings": self.warnings,
            "error": self.error,
            "error_kind": self.error_kind,
            "source": t.source,
            "depth": t.depth,
            "final_url": self.final_url,
            "redirect_chain": self.redirects,
            "compressed_bytes": self.compressed_bytes,
            "is_gzip": self.is_gzip,
            "is_partial": self.is_partial,
            "n_children": n_children,
            "n_invalid_urls": self.n_invalid,
            "n_cross_host": self.n_cross_host + self.n_children_cross_host,
            "n_robots_blocked": self.n_robots_blocked,
            "n_googlebot_blocked": self.n_googlebot_blocked,
            "n_duplicates_within": duplicates[0],
            "n_duplicates_across": duplicates[1],
            "is_over_url_limit": is_over_url_limit(max(self.n_urls, n_children)),
            "is_over_size_limit": is_over_size_limit(self.bytes),
            "lastmod": lastmod_micros(t.lastmod_raw) if t.lastmod_raw else None,
            "lastmod_raw": t.lastmod_raw,
            "fetched_at": self.fetched_at,
            "response_ms": self.response_ms,
        }


@dataclass
class SitemapRunSummary:
    """The outcome of a run (also written as `sitemap_run.json`)."""

    site_id: str
    run_dir: Path
    n_sitemaps: int
    n_urls: int
    n_errors: int
    n_partial: int
    by_kind: dict[str, int]
    roots: list[str]
    robots: list[dict[str, Any]]
    elapsed_s: float
    urls_per_s: float
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "run_dir": str(self.run_dir),
            "n_sitemaps": self.n_sitemaps,
            "n_urls": self.n_urls,
            "n_errors": self.n_errors,
            "n_partial": self.n_partial,
            "by_kind": self.by_kind,
            "roots": self.roots,
            "robots": self.robots,
            "elapsed_s": self.elapsed_s,
            "urls_per_s": self.urls_per_s,
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        """Human-readable summary for the CLI and the Dagster log."""
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.by_kind.items())) or "none"
        out = [
            f"sitemaps: {self.n_sitemaps} files ({kinds}), {self.n_urls:,} URLs "
            f"in {self.elapsed_s:.1f}s ({self.urls_per_s:,.0f} URLs/s)",
            f"errors: {self.n_errors} files ({self.n_partial} partly read)",
        ]
        for robots in self.robots:
            out.append(
                f"robots.txt {robots['robots_url']}: {robots['outcome']}"
                f" (HTTP {robots['status']}), {len(robots['sitemaps'])} Sitemap: lines"
            )
        out += [f"warning: {w}" for w in self.warnings]
        out.append(f"landed in {self.run_dir}")
        return out
