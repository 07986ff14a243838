"""The sitemaps asset: one partition per configured site, landing sitemap URLs, files and robots.

Thin wiring over `ingest.sitemaps`: the asset resolves the site, runs one sitemap collection
into `landing/sitemaps/<site>/<run>/` and turns the run summary into metadata people read in the
UI. Broken sitemaps are findings, not failures: the asset fails only when nothing at all could be
read, and then says why in one line.

No `from __future__ import annotations` here: Dagster inspects the `context` annotation at
definition time and rejects it when it is a string.
"""

import dagster as dg
import pyarrow.parquet as pq

from ingest.sitemaps.collect import SitemapOptions, SitemapRunSummary, collect_sitemaps
from orchestration.defs.crawl.assets import site_partitions
from orchestration.lib.settings import LinkwarehouseSettings

SITEMAP_URLS = dg.AssetKey(["sitemaps", "sitemap_urls"])
SITEMAP_FILES = dg.AssetKey(["sitemaps", "sitemaps"])
ROBOTS = dg.AssetKey(["sitemaps", "robots"])


@dg.multi_asset(
    name="sitemaps",
    specs=[
        dg.AssetSpec(
            SITEMAP_URLS,
            description="One row per <loc> per sitemap file, with extensions and flags "
            "(sitemap_urls.parquet).",
            kinds={"python", "parquet"},
        ),
        dg.AssetSpec(
            SITEMAP_FILES,
            description="One row per sitemap file: kind, status, size, limits, duplicates, "
            "warnings, errors (sitemaps.parquet).",
            kinds={"python", "parquet"},
        ),
        dg.AssetSpec(
            ROBOTS,
            description="The robots.txt record of each origin (robots.parquet).",
            kinds={"python", "parquet"},
        ),
    ],
    partitions_def=site_partitions,
    group_name="sitemaps",
    pool="sitemaps",
)
def sitemaps(context: dg.AssetExecutionContext, settings: LinkwarehouseSettings):
    """Discover and read the partition's sitemaps (config, robots.txt, default locations)."""
    site = settings.config().site(context.partition_key)
    context.log.info(f"reading sitemaps of {site.id} ({site.start_urls[0]})")
    summary = collect_sitemaps(site, options=SitemapOptions.for_site(site),
                               base=settings.data_path)  # fmt: skip
    for line in summary.lines():
        context.log.info(line)
    if summary.n_sitemaps == 0 or (summary.n_errors == summary.n_sitemaps and not summary.n_urls):
        raise dg.Failure(
            description=f"no sitemap of {site.id} could be read: {_first_error(summary)}",
            metadata={"run_dir": dg.MetadataValue.path(str(summary.run_dir))},
        )
    run_dir = dg.MetadataValue.path(str(summary.run_dir))
    yield dg.MaterializeResult(
        asset_key=SITEMAP_URLS,
        metadata={
            "dagster/row_count": summary.n_urls,
            "urls_per_s": summary.urls_per_s,
            "run_dir": run_dir,
            "preview": dg.MetadataValue.md(_url_flags_table(summary)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=SITEMAP_FILES,
        metadata={
            "dagster/row_count": summary.n_sitemaps,
            "errors": summary.n_errors,
            "partial": summary.n_partial,
            "by_kind": summary.by_kind,
            "run_dir": run_dir,
            "files": dg.MetadataValue.md(_files_table(summary)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=ROBOTS,
        metadata={
            "dagster/row_count": len(summary.robots),
            "run_dir": run_dir,
            "robots": dg.MetadataValue.md(_robots_table(summary)),
        },
    )


def _first_error(summary: SitemapRunSummary) -> str:
    path = summary.run_dir / "sitemaps.parquet"
    if path.exists():
        for error in pq.read_table(path, columns=["error"])["error"].to_pylist():
            if error:
                return error
    return "; ".join(summary.warnings) or "no sitemap was named or found"


def _cell(value: object) -> str:
    return str(value if value is not None else "").replace("|", "/")


def _files_table(summary: SitemapRunSummary, limit: int = 20) -> str:
    table = pq.read_table(
        summary.run_dir / "sitemaps.parquet",
        columns=["sitemap_url", "kind", "status", "n_urls", "bytes", "warnings", "error"],
    ).to_pylist()
    lines = [
        "| sitemap | kind | status | URLs | bytes | problems |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in table[:limit]:
        problems = [w.split(":", 1)[0] for w in row["warnings"] or []]
        if row["error"]:
            problems.insert(0, "ERROR " + row["error"].split(":", 1)[0])
        lines.append(
            f"| {_cell(row['sitemap_url'])} | {_cell(row['kind'])} | {_cell(row['status'])} "
            f"| {row['n_urls'] or 0:,} | {row['bytes'] or 0:,} | {_cell(', '.join(problems))} |"
        )
    if len(table) > limit:
        lines.append(f"| ... {len(table) - limit} more | | | | | |")
    return "\n".join(lines)


def _url_flags_table(summary: SitemapRunSummary) -> str:
    import pyarrow.compute as pc

    table = pq.read_table(
        summary.run_dir / "sitemap_urls.parquet",
        columns=["is_cross_host", "is_robots_blocked", "is_googlebot_blocked", "error",
                 "lastmod_raw", "lastmod", "n_images", "hreflang"],
    )  # fmt: skip
    n = table.num_rows
    facts = {
        "URLs": n,
        "invalid URLs": n - table["error"].null_count,
        "cross-host": pc.sum(table["is_cross_host"]).as_py() or 0,
        "blocked by robots.txt (our agent)": pc.sum(table["is_robots_blocked"]).as_py() or 0,
        "blocked for Googlebot": pc.sum(table["is_googlebot_blocked"]).as_py() or 0,
        "invalid lastmod": pc.sum(
            pc.and_(pc.is_valid(table["lastmod_raw"]), pc.is_null(table["lastmod"]))
        ).as_py()
        or 0,
        "with images": pc.sum(pc.greater(table["n_images"], 0)).as_py() or 0,
        "with hreflang": n - table["hreflang"].null_count,
    }
    lines = ["| fact | URLs |", "|---|---:|"]
    lines += [f"| {name} | {value:,} |" for name, value in facts.items()]
    return "\n".join(lines)


def _robots_table(summary: SitemapRunSummary) -> str:
    lines = ["| robots.txt | outcome | status | bytes | sitemaps | root allowed (us / Googlebot) |",
             "|---|---|---:|---:|---:|---|"]  # fmt: skip
    for row in summary.robots:
        lines.append(
            f"| {_cell(row['robots_url'])} | {_cell(row['outcome'])} | {_cell(row['status'])} "
            f"| {row['bytes'] or 0:,} | {len(row['sitemaps'])} "
            f"| {row['is_root_allowed']} / {row['is_root_allowed_for_googlebot']} |"
        )
    return "\n".join(lines)
