"""Plain helpers around the link-equity warehouse (`$LINKWAREHOUSE_DATA/warehouse.duckdb`).

dbt is the only writer of the warehouse file; this module never writes it. It holds what has to
happen around a dbt run and is worth having without Dagster (a notebook, `make demo`, tests):

* `ensure_landing_placeholders`: zero-row landing files for sources that have not landed yet, so
  every dbt source glob matches something and the warehouse builds with only a crawl (or with
  nothing at all). Schemas come from the ingest modules themselves, so they cannot drift.
* `warehouse_lock`: an OS file lock serializing warehouse writers across processes. Dagster's
  `warehouse` pool does the same when the instance is configured for it; the lock makes a DuckDB
  "could not set lock on file" error impossible even when it is not.
* `compute_page_scores`: the PageRank step between dbt layers: read the graph models read-only,
  run `linking.graph` with each site's settings (`pagerank_settings_by_site`: the `pagerank:`
  block of the site in the YAML config), land Parquet that dbt reads back as the
  `linking.page_scores` source.
* `build_warehouse`: the whole build (placeholders, dbt, PageRank, dbt) in two dbt invocations,
  for notebooks and tests; Dagster runs the same steps as separate branches.
* `warehouse_summary`: the lines `make demo` prints.

Command line: `python -m linking.warehouse build|docs|summary [--data DIR]`.
"""

from __future__ import annotations

import fcntl
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.landing import SCHEMAS as CRAWL_SCHEMAS
from ingest.landing import atomic_path, write_table
from ingest.paths import data_dir as default_data_dir

if TYPE_CHECKING:
    from ingest.config import Config, SiteConfig
    from linking.graph import PageRankSettings

WAREHOUSE_FILE = "warehouse.duckdb"
PLACEHOLDER = "_empty"
"""Folder name of placeholder files; site ids cannot start with `_`, so no site is ever hidden."""


def warehouse_path(data: Path | None = None) -> Path:
    """The warehouse file inside the data folder (dbt's profiles.yml builds the same path)."""
    return (data or default_data_dir()) / WAREHOUSE_FILE


# ---------------------------------------------------------------------------------------------
# Placeholders for absent sources
# ---------------------------------------------------------------------------------------------


def _schema(module: str, name: str) -> Callable[[], pa.Schema]:
    """The landing schema `name` of the ingest module that owns a source, imported when needed
    (the placeholder then has exactly the columns and types that source lands)."""
    return lambda: getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Placeholder:
    """One zero-row file under `landing/<source>/...` matching the glob of one dbt source."""

    relative_path: str
    schema: Callable[[], pa.Schema] | None  # None: a JSON file holding an empty list

    def write(self, data: Path) -> Path | None:
        """Write the file unless it is there with the current schema; the path when written.

        A placeholder written before its source added a column is rewritten: with no real file
        to fill it, a staging model reading the new column would fail.
        """
        path = data / self.relative_path
        if self.schema is None:
            if path.exists():
                return None
            with atomic_path(path) as tmp:
                tmp.write_text("[]\n")
            return path
        schema = self.schema()
        if path.exists() and pq.read_schema(path).remove_metadata().equals(
            schema.remove_metadata()
        ):
            return None
        return write_table(schema.empty_table(), path)


def _crawl(name: str) -> Callable[[], pa.Schema]:
    return lambda: CRAWL_SCHEMAS[name]


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder(f"landing/crawl/{PLACEHOLDER}/{PLACEHOLDER}/pages.parquet", _crawl("pages")),
    Placeholder(f"landing/crawl/{PLACEHOLDER}/{PLACEHOLDER}/links.parquet", _crawl("links")),
    Placeholder(f"landing/crawl/{PLACEHOLDER}/{PLACEHOLDER}/errors.parquet", _crawl("errors")),
    Placeholder(f"landing/crawl/{PLACEHOLDER}/{PLACEHOLDER}/crawl_run.json", None),
    Placeholder(
        f"landing/sitemaps/{PLACEHOLDER}/{PLACEHOLDER}/sitemap_urls.parquet",
        _schema("ingest.sitemaps.schema", "SITEMAP_URLS_SCHEMA"),
    ),
    Placeholder(
        f"landing/sitemaps/{PLACEHOLDER}/{PLACEHOLDER}/sitemaps.parquet",
        _schema("ingest.sitemaps.schema", "SITEMAPS_SCHEMA"),
    ),
    Placeholder(
        f"landing/sitemaps/{PLACEHOLDER}/{PLACEHOLDER}/robots.parquet",
        _schema("ingest.sitemaps.schema", "ROBOTS_SCHEMA"),
    ),
    Placeholder(
        f"landing/backlinks/{PLACEHOLDER}/{PLACEHOLDER}/backlinks.parquet",
        _schema("ingest.backlinks.schema", "BACKLINKS_SCHEMA"),
    ),
    Placeholder(
        f"landing/gsc/{PLACEHOLDER}/search_analytics/{PLACEHOLDER}/search_analytics.parquet",
        _schema("ingest.gsc.schema", "SEARCH_ANALYTICS_SCHEMA"),
    ),
    Placeholder(
        f"landing/gsc/{PLACEHOLDER}/url_inspection/{PLACEHOLDER}.parquet",
        _schema("ingest.gsc.schema", "URL_INSPECTION_SCHEMA"),
    ),
    Placeholder(
        f"landing/linking/{PLACEHOLDER}/page_scores.parquet",
        _schema("linking.pagerank_io", "LANDED_SCHEMA"),
    ),
)


def ensure_landing_placeholders(data: Path | None = None) -> list[Path]:
    """Write the zero-row placeholder of every dbt source that lacks one; return what was written.

    Why zero-row files instead of conditional SQL: DuckDB's `read_parquet` fails on a glob that
    matches nothing, and the column set of a source must not depend on which sources happen to
    exist (`union_by_name` fills columns an older file lacks from the placeholder's schema).
    Idempotent and atomic: two runs calling it at once both see whole files.
    """
    data = data or default_data_dir()
    written = []
    for placeholder in PLACEHOLDERS:
        path = placeholder.write(data)
        if path is not None:
            written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# Serializing writers
# ---------------------------------------------------------------------------------------------


@contextmanager
def warehouse_lock(data: Path | None = None, *, timeout_s: float = 3600.0) -> Iterator[float]:
    """Hold the warehouse's writer lock (an `fcntl` lock on `warehouse.duckdb.lock`).

    DuckDB lets one process open a file for writing and refuses every other process meanwhile,
    readers included. Everything that opens the warehouse (dbt, the PageRank step, the summary)
    takes this lock first, so an overlapping run waits instead of failing. Yields the seconds
    spent waiting.
    """
    path = warehouse_path(data).with_name(WAREHOUSE_FILE + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started > timeout_s:
                    raise TimeoutError(f"{path} stayed locked for {timeout_s:.0f} s") from None
                time.sleep(0.05)
        yield time.monotonic() - started
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def table_row_counts(db: Path, relations: list[str]) -> dict[str, int]:
    """Rows of each existing `schema.table` in the warehouse; absent tables are left out.

    Opens the file read-only and does not take `warehouse_lock`: the caller holds it (the dbt
    step reads its row counts right after dbt exits, before letting the next writer in).
    """
    import duckdb

    if not relations or not db.exists():
        return {}
    counts: dict[str, int] = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        existing = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for relation in relations:
            if relation in existing:
                schema, name = relation.split(".")
                row = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
                counts[relation] = int(row[0]) if row else 0
    finally:
        con.close()
    return counts


# ---------------------------------------------------------------------------------------------
# PageRank between dbt layers
# ---------------------------------------------------------------------------------------------

GRAPH_NODES_RELATION = "intermediate.int_link_graph_nodes"
GRAPH_EDGES_RELATION = "intermediate.int_link_graph_edges"
PAGE_SCORES_FILE = "page_scores.parquet"


def page_scores_path(site_id: str, data: Path | None = None) -> Path:
    """Where the PageRank step lands a site's scores (the dbt source `linking.page_scores`)."""
    return (data or default_data_dir()) / "landing" / "linking" / site_id / PAGE_SCORES_FILE


def pagerank_settings_of(site: SiteConfig | None) -> PageRankSettings:
    """The PageRank settings of one configured site: its `pagerank:` block over the defaults.

    The defaults live in `linking.graph.PageRankSettings` only; the config names what it
    changes. `position_weights` is merged into the default weights (a config naming only the
    footer keeps the other positions' defaults).
    """
    from linking.graph import PageRankSettings

    if site is None or site.pagerank is None:
        return PageRankSettings()
    values = site.pagerank.overrides()
    if "position_weights" in values:
        values["position_weights"] = {
            **PageRankSettings().position_weights,
            **values["position_weights"],
        }
    return PageRankSettings.model_validate(values)


def pagerank_settings_by_site(config: Config) -> dict[str, PageRankSettings]:
    """`pagerank_settings_of` every site of the config, by site id."""
    return {site.id: pagerank_settings_of(site) for site in config.sites}


@dataclass(frozen=True)
class SiteScores:
    """What the PageRank step did for one site (Dagster shows it as metadata)."""

    site_id: str
    path: Path
    n_pages: int
    n_eligible: int
    n_edges: int
    iterations: dict[str, int]
    converged: bool
    seconds: float
    settings: PageRankSettings | None = field(default=None, compare=False)  # what was used


def compute_page_scores(
    data: Path | None = None,
    settings: PageRankSettings | None = None,
    *,
    site_settings: Mapping[str, PageRankSettings] | None = None,
) -> list[SiteScores]:
    """Run every PageRank variant per site on the warehouse's graph models; land the scores.

    Each site is computed with `site_settings[site_id]` (e.g. `pagerank_settings_by_site` of
    the loaded config); a site absent from it uses `settings` (None: the defaults). The settings
    used travel with the scores (`linking.pagerank_io.read_run_info`, and the nofollow policy as
    a column that page_link_equity reports).

    Reads `int_link_graph_nodes`/`int_link_graph_edges` through a read-only connection under the
    writer lock (DuckDB refuses a reader while dbt writes), computes with `linking.graph` via
    `linking.pagerank_io`, and replaces `landing/linking/<site>/page_scores.parquet` atomically.
    Score files of sites no longer in the graph are removed, so stale scores never come back.
    """
    import duckdb

    from linking.graph import PageRankSettings
    from linking.pagerank_io import land_link_equity

    site_settings = site_settings or {}

    data = data or default_data_dir()
    db = warehouse_path(data)
    if not db.exists():
        raise FileNotFoundError(f"{db} does not exist: build the graph models with dbt first")
    results = []
    with warehouse_lock(data):
        con = duckdb.connect(str(db), read_only=True)
        try:
            sites = [
                row[0]
                for row in con.execute(
                    f"select distinct site_id from {GRAPH_NODES_RELATION} order by 1"
                ).fetchall()
            ]
            for site_id in sites:
                started = time.monotonic()
                path = page_scores_path(site_id, data)
                result = land_link_equity(
                    con,
                    path,
                    nodes_relation=GRAPH_NODES_RELATION,
                    edges_relation=GRAPH_EDGES_RELATION,
                    site_id=site_id,
                    settings=site_settings.get(site_id, settings) or PageRankSettings(),
                )
                results.append(
                    SiteScores(
                        site_id=site_id,
                        path=path,
                        n_pages=int(result.stats["n_pages"]),
                        n_eligible=int(result.stats["n_eligible"]),
                        n_edges=int(result.stats["n_edges"]),
                        iterations={name: run.iterations for name, run in result.runs.items()},
                        converged=all(run.converged for run in result.runs.values()),
                        seconds=time.monotonic() - started,
                        settings=result.settings,
                    )
                )
        finally:
            con.close()
    root = data / "landing" / "linking"
    if root.exists():
        for folder in root.iterdir():
            stale = folder / PAGE_SCORES_FILE
            if folder.name not in sites and not folder.name.startswith("_") and stale.exists():
                stale.unlink()
    return results


def page_scores_run_info(data: Path | None = None) -> dict[str, dict]:
    """Run info (iterations, errors, settings per variant) of every landed score file, by site."""
    from linking.pagerank_io import read_run_info

    root = (data or default_data_dir()) / "landing" / "linking"
    if not root.exists():
        return {}
    return {
        folder.name: read_run_info(folder / PAGE_SCORES_FILE)
        for folder in sorted(root.iterdir())
        if not folder.name.startswith("_") and (folder / PAGE_SCORES_FILE).exists()
    }


def orphan_status_by_site(data: Path | None = None) -> dict[str, str]:
    """`orphan_status` of each site in marts.orphan_pages: orphan (computed), crawl_incomplete,
    no_crawl. A site with a complete crawl and no orphans has no rows, hence "orphan" too."""
    import duckdb

    db = warehouse_path(data)
    if not db.exists():
        return {}
    with warehouse_lock(db.parent):
        con = duckdb.connect(str(db), read_only=True)
        try:
            rows = con.execute(
                "select p.site_id, coalesce(o.orphan_status, 'orphan')"
                " from (select distinct site_id from marts.dim_pages) p"
                " left join (select distinct site_id, orphan_status from marts.orphan_pages"
                "            where orphan_status <> 'orphan') o using (site_id)"
                " union"
                " select site_id, orphan_status from marts.orphan_pages"
                " where orphan_status = 'no_crawl'"
            ).fetchall()
        finally:
            con.close()
    return dict(sorted(rows))


# ---------------------------------------------------------------------------------------------
# Building without Dagster
# ---------------------------------------------------------------------------------------------

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
GRAPH_SELECTION = (
    "path:models/staging/crawl",
    "path:models/staging/backlinks",
    "path:models/intermediate",
)
GRAPH_EXCLUSION = ("path:models/intermediate/search",)
REST_SELECTION = (
    "path:models/staging/gsc",
    "path:models/staging/sitemaps",
    "path:models/staging/linking",
    "path:models/intermediate/search",
    "path:models/marts",
)


class WarehouseBuildError(RuntimeError):
    """A dbt step failed; the message ends with the tail of dbt's output."""


def build_warehouse(
    data: Path | None = None,
    *,
    dbt_executable: str | None = None,
    settings: PageRankSettings | None = None,
    site_settings: Mapping[str, PageRankSettings] | None = None,
) -> list[SiteScores]:
    """Build the whole warehouse from the landing files, without Dagster (notebooks, tests).

    The same steps as the Dagster job in two dbt invocations instead of one per branch:
    placeholders, `dbt build` of the graph models, PageRank, `dbt build` of everything else.
    PageRank settings as in `compute_page_scores`: per site from `site_settings` (e.g.
    `pagerank_settings_by_site(load_config())`), else `settings`, else the defaults.
    Each step holds `warehouse_lock`. Raises WarehouseBuildError when dbt fails (a failing dbt
    test included). Returns what the PageRank step did per site.
    """
    data = (data or default_data_dir()).resolve()
    ensure_landing_placeholders(data)
    # buildable: a test runs in the step that builds the last of its models (the default would
    # run page_link_equity's relationship test in the graph step, before the mart exists)
    tests = ["--indirect-selection", "buildable"]
    graph = ["--select", *GRAPH_SELECTION, "--exclude", *GRAPH_EXCLUSION]
    _run_dbt(data, ["build", *tests, *graph], dbt_executable)
    scores = compute_page_scores(data, settings, site_settings=site_settings)
    _run_dbt(data, ["build", *tests, "--select", *REST_SELECTION], dbt_executable)
    return scores


def _run_dbt(data: Path, args: list[str], dbt_executable: str | None) -> None:
    import shutil
    import subprocess

    dbt = (
        dbt_executable
        or shutil.which("dbt")
        or str(Path(sys.executable).with_name("dbt"))  # the venv's, when it is not on PATH
    )
    target = data / "dbt_target"
    target.mkdir(parents=True, exist_ok=True)
    shared_parse = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if shared_parse.exists() and not (target / shared_parse.name).exists():
        shutil.copy(shared_parse, target / shared_parse.name)  # skip a full parse when we can
    env = {
        **os.environ,
        "LINKWAREHOUSE_DATA": str(data),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    with warehouse_lock(data):
        done = subprocess.run(
            [dbt, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True
        )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        raise WarehouseBuildError(f"dbt {' '.join(args)} failed ({done.returncode}):\n{tail}")


# ---------------------------------------------------------------------------------------------
# Summary for `make demo`
# ---------------------------------------------------------------------------------------------


def warehouse_summary(db_path: Path | None = None, *, top: int = 5) -> list[str]:
    """Plain-text lines about the built warehouse: what `make demo` prints after building it.

    Per site: top pages by link score, orphans by source (or why there are none), sitemap
    issues, cannibalized queries, top equity gaps. A mart that was not built (its branch failed
    or its source is absent) is reported as such instead of failing the summary.
    """
    import duckdb

    db = Path(db_path) if db_path is not None else warehouse_path()
    if not db.exists():
        return [f"warehouse: {db} does not exist (nothing built yet)"]
    with warehouse_lock(db.parent):
        con = duckdb.connect(str(db), read_only=True)
        try:
            return _Summary(con, top).lines(db)
        finally:
            con.close()


class _Summary:
    """Queries behind `warehouse_summary`; a mart that is missing reads as None, not an error."""

    def __init__(self, con: object, top: int) -> None:
        self.con = con
        self.top = top
        self.tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(  # type: ignore[attr-defined]
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }

    def rows(self, table: str, sql: str, params: list[object]) -> list[tuple] | None:
        if table not in self.tables:
            return None
        return self.con.execute(sql, params).fetchall()  # type: ignore[attr-defined]

    def lines(self, db: Path) -> list[str]:
        out = [f"warehouse: {db}"]
        sites = self.rows(
            "marts.dim_pages", "select distinct site_id from marts.dim_pages order by 1", []
        )
        if sites is None:
            return [*out, "  dim_pages is not built (see the failed warehouse step)"]
        if not sites:
            return [*out, "  no pages yet (did the crawl land?)"]
        for (site_id,) in sites:
            out += self.site(site_id)
        return out

    def site(self, site_id: str) -> list[str]:
        known = self.rows(
            "marts.dim_pages",
            "select count(*), count(*) filter (where in_crawl), count(*) filter (where in_sitemap),"
            " count(*) filter (where in_gsc), count(*) filter (where in_backlinks)"
            " from marts.dim_pages where site_id = ?",
            [site_id],
        )
        n, crawl, sitemap, gsc, backlinks = known[0] if known else (0, 0, 0, 0, 0)
        out = [
            "",
            f"site {site_id}: {n} URLs known (crawl {crawl}, sitemaps {sitemap}, "
            f"Search Console {gsc}, backlinks {backlinks})",
        ]
        out += self.top_pages(site_id)
        out += self.orphans(site_id)
        out += self.sitemap_issues(site_id)
        out += self.cannibalization(site_id)
        out += self.equity_gaps(site_id)
        return out

    def top_pages(self, site_id: str) -> list[str]:
        rows = self.rows(
            "marts.page_link_equity",
            "select link_score, url, n_inlinks, click_depth, referring_domains"
            " from marts.page_link_equity where site_id = ? and link_score is not null"
            " order by link_score desc, url limit ?",
            [site_id, self.top],
        )
        if rows is None:
            return ["  top pages by link score: (page_link_equity not built)"]
        out = ["  top pages by link score (0-100, policy PageRank):"]
        for score, url, inlinks, depth, domains in rows:
            out.append(
                f"    {score:5.1f}  {url}  (inlinks {inlinks}, depth {_or_dash(depth)}, "
                f"referring domains {domains})"
            )
        return out

    def orphans(self, site_id: str) -> list[str]:
        rows = self.rows(
            "marts.orphan_pages",
            "select orphan_status, count(*) filter (where url_key is not null),"
            " count(*) filter (where in_sitemap), count(*) filter (where in_gsc),"
            " count(*) filter (where in_backlinks), any_value(status_message),"
            " max(n_candidates) from marts.orphan_pages where site_id = ? group by 1",
            [site_id],
        )
        if rows is None:
            return ["  orphans: (orphan_pages not built)"]
        if not rows:
            return ["  orphans: none"]
        status, n, sitemap, gsc, backlinks, message, candidates = rows[0]
        if status != "orphan":
            return [f"  orphans: not computed: {message} ({candidates} candidates)"]
        return [
            f"  orphans: {n} (found in sitemaps {sitemap}, Search Console {gsc}, "
            f"backlinks {backlinks}; a page can be in several)"
        ]

    def sitemap_issues(self, site_id: str) -> list[str]:
        rows = self.rows(
            "marts.sitemap_audit",
            "select issue, count(*) from marts.sitemap_audit where site_id = ?"
            " group by 1 order by 2 desc, 1",
            [site_id],
        )
        if rows is None:
            return ["  sitemap issues: (sitemap_audit not built)"]
        if not rows:
            return ["  sitemap issues: none (or no sitemaps landed)"]
        return ["  sitemap issues: " + ", ".join(f"{issue} {n}" for issue, n in rows)]

    def cannibalization(self, site_id: str) -> list[str]:
        rows = self.rows(
            "marts.query_cannibalization",
            "select query, any_value(query_clicks), count(*) filter (where is_competing),"
            " list(url order by click_share desc) filter (where is_competing)"
            " from (select q.*, q.page_url as url from marts.query_cannibalization q"
            "       where site_id = ?)"
            " group by query order by 2 desc, 1",
            [site_id],
        )
        if rows is None:
            return ["  cannibalized queries: (query_cannibalization not built)"]
        if not rows:
            return ["  cannibalized queries: none (or no Search Console data)"]
        out = [f"  cannibalized queries: {len(rows)}"]
        for query, clicks, n, urls in rows[: self.top]:
            out.append(f"    {query!r}: {clicks} clicks split by {n} pages: {', '.join(urls)}")
        return out

    def equity_gaps(self, site_id: str) -> list[str]:
        rows = self.rows(
            "marts.equity_gaps",
            "select url, impressions, avg_position, link_score, top_query"
            " from marts.equity_gaps where site_id = ? order by gap_rank, url limit ?",
            [site_id, self.top],
        )
        if rows is None:
            return ["  top equity gaps: (equity_gaps not built)"]
        if not rows:
            return ["  top equity gaps: none (or no Search Console data)"]
        out = ["  top equity gaps (striking distance, little link equity):"]
        for url, impressions, position, score, query in rows:
            out.append(
                f"    {url}  impressions {impressions}, position {position:.1f}, "
                f"link score {_or_dash(score)}, top query {query!r}"
            )
        return out


def _or_dash(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Command line: `python -m linking.warehouse build|docs|summary`
# ---------------------------------------------------------------------------------------------


def generate_docs(data: Path | None = None, *, dbt_executable: str | None = None) -> Path:
    """`dbt docs generate --static` into dbt_project/target/docs; returns the HTML file.

    Holds the writer lock (dbt opens the warehouse to read its catalog). The single static page
    opens from the file system; `dbt docs serve --target-path target/docs` also works.
    """
    data = (data or default_data_dir()).resolve()
    ensure_landing_placeholders(data)
    out = DBT_PROJECT_DIR / "target" / "docs"
    _run_dbt(data, ["docs", "generate", "--static", "--target-path", str(out)], dbt_executable)
    return out / "static_index.html"


def main(argv: list[str] | None = None) -> int:
    """`build` the warehouse without Dagster, generate the dbt `docs`, or print the `summary`."""
    import argparse

    from ingest.config import ConfigError, load_config

    parser = argparse.ArgumentParser(prog="python -m linking.warehouse", description=main.__doc__)
    parser.add_argument("command", choices=("build", "docs", "summary"))
    parser.add_argument("--data", type=Path, help="data folder (default $LINKWAREHOUSE_DATA)")
    parser.add_argument(
        "--config",
        type=Path,
        help="YAML config whose sites' `pagerank:` blocks apply (default $LINKWAREHOUSE_CONFIG)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            site_settings = pagerank_settings_by_site(load_config(args.config))
            for scores in build_warehouse(args.data, site_settings=site_settings):
                print(f"{scores.site_id}: {scores.n_pages} pages scored -> {scores.path}")
            print("\n".join(warehouse_summary(warehouse_path(args.data))))
        elif args.command == "docs":
            print(f"dbt docs: {generate_docs(args.data)}")
        else:
            print("\n".join(warehouse_summary(warehouse_path(args.data))))
    except (WarehouseBuildError, FileNotFoundError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
