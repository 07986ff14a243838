"""Crawl benchmark: linkwarehouse side by side with advertools (Scrapy) and wget, in one run.

Every tool crawls the same nginx-served site (bench/setup_nginx.sh: Debian's python3.11-doc on
127.0.0.1:8901) at the same concurrency, one after the other, N rounds interleaved, on this machine.
For each tool: wall seconds, HTML pages fetched, pages/s, client CPU ms per page (user+sys of the
child process tree), peak RSS of the tree, and how its set of fetched URLs compares with
linkwarehouse's (all normalized with `ingest.urls.normalize_url`).

    python bench/crawl.py                      # 3 rounds, concurrency 32, print the Markdown
    python bench/crawl.py --runs 1             # quick
    python bench/crawl.py --write              # also replace `## Crawl` in docs/benchmarks.md
    python bench/crawl.py --tools wget,advertools --runs 1

When a linkwarehouse target is missed (>= 400 pages/s, >= 40x advertools, peak RSS <= 300 MB), one
more linkwarehouse run under cProfile says where the time goes (or always, with --profile).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # after PYTHONPATH: a source snapshot must win
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Measured,
    debian_package_version,
    machine_description,
    median,
    replace_markdown_section,
    run_measured,
    run_text,
    wait_for_quiet_machine,
)

DEFAULT_URL = "http://127.0.0.1:8901/"
DOC_ROOT = Path("/usr/share/doc/python3.11/html")
DOCS_FILE = REPO / "docs" / "benchmarks.md"
DOCS_TITLE = (
    "# Benchmarks\n\n"
    "Measured side by side with peer tools by the scripts in `bench/` (see `bench/README.md`); "
    "every figure in a section comes from one run on the machine that section names.\n"
)
SECTION = "## Crawl"

TARGET_PAGES_PER_S = 400.0
TARGET_RATIO_VS_ADVERTOOLS = 40.0
TARGET_PEAK_RSS_MB = 300.0

# nginx's mime.types decides what is HTML by extension; a path ending in "/" serves index.html.
HTML_SUFFIXES = (".html", ".htm", ".shtml", "/")

ALL_TOOLS = ("linkwarehouse-aiohttp", "linkwarehouse-httpx", "advertools", "wget")


# --------------------------------------------------------------------------------------------
# What one crawl produced


@dataclass
class CrawlOutcome:
    """The URLs one tool fetched, normalized, with what the tool itself says about its run."""

    ok_urls: set[str] = field(default_factory=set)  # final URLs answered 2xx
    html_urls: set[str] = field(default_factory=set)  # the HTML ones among them
    error_urls: dict[str, int] = field(default_factory=dict)  # non-2xx final status
    crawl_s: float | None = None  # the tool's own crawl time, without process start-up
    notes: list[str] = field(default_factory=list)


@dataclass
class RunRecord:
    tool: str
    round: int
    measured: Measured
    outcome: CrawlOutcome
    failure: str | None = None

    @property
    def pages(self) -> int:
        return len(self.outcome.html_urls)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.measured.wall_s if self.measured.wall_s else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.measured.cpu_s / self.pages if self.pages else float("nan")


def _normalizer() -> Callable[[str], str | None]:
    from ingest.urls import InvalidURL, normalize_url

    def norm(url: str) -> str | None:
        try:
            return normalize_url(url)
        except InvalidURL:
            return None

    return norm


def _is_html_path(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(HTML_SUFFIXES)


def _is_robots(url: str) -> bool:
    return urlsplit(url).path == "/robots.txt"


# --------------------------------------------------------------------------------------------
# linkwarehouse


def _linkwarehouse_cli() -> Path | None:
    exe = Path(sys.executable).parent / "linkwarehouse"
    return exe if exe.exists() else None


def _crawler_available() -> bool:
    try:
        from ingest.crawl import crawler  # noqa: F401
    except Exception:  # noqa: BLE001 - any import problem means "not there yet"
        return False
    return hasattr(crawler, "crawl_site")


def _cli_help() -> str:
    exe = _linkwarehouse_cli()
    if exe is None:
        return ""
    return run_text([str(exe), "crawl", "--help"], timeout_s=60)


def _cli_usable(help_text: str) -> bool:
    return "--out" in help_text and "--concurrency" in help_text and "--allow-private" in help_text


def linkwarehouse_argv(
    url: str,
    out: Path,
    concurrency: int,
    transport: str,
    mode: str,
    profile_out: Path | None = None,
    max_pages: int | None = None,
) -> list[str]:
    """The CLI when it is there and exposes what we need, else the in-file runner (crawl_site)."""
    limit = ["--max-pages", str(max_pages)] if max_pages else []
    if mode == "cli":
        argv = [
            str(_linkwarehouse_cli()),
            "crawl",
            url,
            "--out",
            str(out),
            "--concurrency",
            str(concurrency),
            "--allow-private",
        ]
        argv += ["--transport", transport, *limit]
        return argv
    argv = [sys.executable, str(Path(__file__).resolve()), "--run-linkwarehouse"]
    argv += ["--url", url, "--out", str(out), "--concurrency", str(concurrency)]
    argv += ["--transport", transport]
    if profile_out is not None:
        argv += ["--profile-out", str(profile_out)]
    return argv + limit


def run_linkwarehouse_inline(
    url: str,
    out: Path,
    concurrency: int,
    transport: str,
    profile_out: Path | None,
    max_pages: int | None = None,
) -> int:
    """The runner: `crawl_site` with `site_from_start_url(...)`, optionally under cProfile."""
    from ingest.config import site_from_start_url
    from ingest.crawl.crawler import crawl_site

    site = site_from_start_url(
        url,
        transport=transport,
        concurrency=concurrency,
        per_host_concurrency=concurrency,
        allow_private=True,
        max_pages=max_pages,
    )
    out.mkdir(parents=True, exist_ok=True)

    def crawl() -> object:
        result = crawl_site(site, out)
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        return result

    if profile_out is None:
        result = crawl()
    else:
        import cProfile

        # CPU time, not wall: on a shared machine wall time would charge other processes' load
        # to whichever function happened to be running.
        profiler = cProfile.Profile(time.process_time)
        result = profiler.runcall(crawl)
        profiler.dump_stats(str(profile_out))
    print(json.dumps({"result": repr(result)[:2000]}))
    return 0


def _find_pages_tables(out: Path) -> list[Path]:
    found = sorted(p for p in out.rglob("*.parquet") if p.name.startswith("pages"))
    return [p for p in found if ".tmp" not in p.name]


def read_linkwarehouse_output(out: Path, norm: Callable[[str], str | None]) -> CrawlOutcome:
    import pyarrow.parquet as pq

    outcome = CrawlOutcome()
    tables = _find_pages_tables(out)
    if not tables:
        raise RuntimeError(f"no pages*.parquet under {out}")
    for path in tables:
        rows = pq.read_table(path).to_pylist()
        for row in rows:
            status = row.get("final_status") or row.get("status")
            final = row.get("final_url") or row.get("url")
            if not final or status is None:
                continue
            url = norm(final)
            if url is None or _is_robots(url):
                continue
            if 200 <= status < 300:
                outcome.ok_urls.add(url)
                is_html = row.get("is_html")
                if is_html is None:
                    is_html = "html" in (row.get("content_type") or "")
                if is_html:
                    outcome.html_urls.add(url)
            else:
                outcome.error_urls[url] = status
    for meta in out.rglob("crawl_run.json"):
        try:
            info = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        outcome.crawl_s = _duration_from_run_info(info)
        outcome.notes.append(f"crawl_run.json: {_short_run_info(info)}")
    return outcome


def _duration_from_run_info(info: dict) -> float | None:
    for key in ("duration_s", "elapsed_s", "wall_s", "seconds"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
    started, finished = info.get("started_at"), info.get("finished_at")
    if isinstance(started, str) and isinstance(finished, str):
        from datetime import datetime

        try:
            return (
                datetime.fromisoformat(finished) - datetime.fromisoformat(started)
            ).total_seconds()
        except ValueError:
            return None
    return None


def _short_run_info(info: dict) -> str:
    keep = {k: v for k, v in info.items() if not isinstance(v, dict | list)}
    return json.dumps(keep, default=str)[:600]


# --------------------------------------------------------------------------------------------
# advertools (Scrapy)


def advertools_argv(url: str, out: Path, concurrency: int, follow_links: bool = True) -> list[str]:
    host = urlsplit(url).hostname or ""
    settings = {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "LOG_LEVEL": "INFO",
        "LOG_FILE": str(out / "scrapy.log"),
    }
    # allowed_domains takes host names: advertools' default (the netloc, with the port) makes
    # Scrapy's offsite filter drop even the start URL.
    code = (
        "import advertools as adv\n"
        f"adv.crawl({url!r}, {str(out / 'crawl.jl')!r}, follow_links={follow_links!r}, "
        f"allowed_domains=[{host!r}], custom_settings={settings!r})\n"
    )
    return [sys.executable, "-c", code]


def read_advertools_output(out: Path, norm: Callable[[str], str | None]) -> CrawlOutcome:
    outcome = CrawlOutcome()
    jl = out / "crawl.jl"
    if not jl.exists() or jl.stat().st_size == 0:
        raise RuntimeError(f"advertools wrote no items to {jl}")
    with jl.open() as handle:
        for line in handle:
            row = json.loads(line)
            url = norm(row.get("url") or "")
            if url is None or _is_robots(url):
                continue
            status = int(row.get("status") or 0)
            ctype = ""
            for key, value in row.items():
                if key.lower() == "resp_headers_content-type":
                    ctype = str(value)
                    break
            if 200 <= status < 300:
                outcome.ok_urls.add(url)
                if "html" in ctype.lower():
                    outcome.html_urls.add(url)
            else:
                outcome.error_urls[url] = status
    log = out / "scrapy.log"
    if log.exists():
        text = log.read_text(errors="replace")
        stats = _scrapy_stats(text)
        elapsed = stats.get("elapsed_time_seconds")
        if elapsed is not None:
            outcome.crawl_s = float(elapsed)
        responses = stats.get("response_received_count")
        errors = stats.get("spider_exceptions/count")
        if errors:
            outcome.notes.append(f"{errors} spider exceptions (items lost): see {log}")
        if responses is not None:
            outcome.notes.append(f"scrapy responses received: {responses}")
    return outcome


def _scrapy_stats(text: str) -> dict[str, float]:
    """Numbers from the last 'Dumping Scrapy stats' block of a Scrapy log."""
    block = text.rsplit("Dumping Scrapy stats:", 1)[-1]
    stats: dict[str, float] = {}
    for key, value in re.findall(r"'([^']+)': (\d+(?:\.\d+)?)[,}]", block):
        stats[key] = float(value)
    return stats


# --------------------------------------------------------------------------------------------
# wget

_WGET_OK = re.compile(r"URL:\s*(\S+) \[")
_WGET_ERROR = re.compile(r"^(\S+):\s*\n\S+ \S+ ERROR (\d{3})", re.M)


def wget_argv(url: str, out: Path, concurrency: int) -> list[str]:
    del concurrency  # wget fetches one URL at a time
    return ["wget", "-r", "-l", "inf", "--no-parent", "-nv", "-P", str(out / "files"), url]


def read_wget_output(log_text: str, norm: Callable[[str], str | None]) -> CrawlOutcome:
    outcome = CrawlOutcome()
    for raw in _WGET_OK.findall(log_text):
        url = norm(raw)
        if url is None or _is_robots(url):
            continue
        outcome.ok_urls.add(url)
        if _is_html_path(url):
            outcome.html_urls.add(url)
    for raw, status in _WGET_ERROR.findall(log_text):
        url = norm(raw)
        if url is not None and not _is_robots(url):
            outcome.error_urls[url] = int(status)
    match = re.search(r"Total wall clock time: (\S+)", log_text)
    if match:
        outcome.notes.append(f"wget: total wall clock time {match.group(1)}")
    return outcome


# --------------------------------------------------------------------------------------------
# Running the rounds


@dataclass(frozen=True)
class Tool:
    name: str
    label: str
    argv: Callable[[Path], list[str]]
    read: Callable[[Path, Measured], CrawlOutcome]
    warmup: Callable[[Path], list[str]]  # one page, not measured: bytecode, page cache, nginx
    ok_exit_codes: tuple[int, ...] = (0,)


def build_tools(names: Iterable[str], url: str, concurrency: int, lw_mode: str) -> list[Tool]:
    norm = _normalizer()
    tools: list[Tool] = []
    how = "CLI" if lw_mode == "cli" else "crawl_site"
    for name in names:
        if name.startswith("linkwarehouse-"):
            transport = name.split("-", 1)[1]
            tools.append(
                Tool(
                    name=name,
                    label=f"linkwarehouse ({how}, {transport} transport)",
                    argv=lambda out, t=transport: linkwarehouse_argv(
                        url, out / "lw", concurrency, t, lw_mode
                    ),
                    read=lambda out, m: read_linkwarehouse_output(out / "lw", norm),
                    warmup=lambda out, t=transport: linkwarehouse_argv(
                        url, out / "lw", concurrency, t, lw_mode, max_pages=1
                    ),
                )
            )
        elif name == "advertools":
            tools.append(
                Tool(
                    name=name,
                    label="advertools.crawl (Scrapy)",
                    argv=lambda out: advertools_argv(url, out, concurrency),
                    read=lambda out, m: read_advertools_output(out, norm),
                    warmup=lambda out: advertools_argv(url, out, concurrency, follow_links=False),
                )
            )
        elif name == "wget":
            tools.append(
                Tool(
                    name=name,
                    label="wget -r (one connection)",
                    argv=lambda out: wget_argv(url, out, concurrency),
                    read=lambda out, m: read_wget_output(m.stderr, norm),
                    warmup=lambda out: ["wget", "-q", "-O", str(out / "index.html"), url],
                    ok_exit_codes=(0, 8),  # 8: the server answered some URL with an error
                )
            )
        else:
            raise SystemExit(f"unknown tool {name!r}; known: {', '.join(ALL_TOOLS)}")
    return tools


SNAPSHOT_DIR: Path | None = None  # set by main: a copy of ingest/ the tools import first


def snapshot_sources(work: Path) -> Path:
    """Copy `ingest/` so every linkwarehouse run of one benchmark measures the same code.

    The tools get the copy first on PYTHONPATH (before the editable install's path), so edits
    made to the working tree while the benchmark runs do not mix versions between rounds.
    """
    target = work / "src-snapshot"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        REPO / "ingest", target / "ingest", ignore=shutil.ignore_patterns("__pycache__")
    )
    return target


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    if SNAPSHOT_DIR is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(SNAPSHOT_DIR), env.get("PYTHONPATH", "")) if p
        )
    # advertools runs `scrapy runspider` from PATH: the venv's bin must come first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # Measure Python tools as installed normally: with cached bytecode (this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which recompiles every module at every start: seconds per run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONHASHSEED", "0")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_rounds(
    tools: list[Tool],
    runs: int,
    work: Path,
    timeout_s: float,
    keep: bool,
    quiet_wait_s: float,
    runs_by_tool: dict[str, int] | None = None,
) -> list[RunRecord]:
    records: list[RunRecord] = []
    env = tool_env()
    for tool in tools:
        out = work / f"warmup-{tool.name}"
        out.mkdir(parents=True, exist_ok=True)
        print(f"[warm-up] {tool.name}", file=sys.stderr)
        run_measured(tool.warmup(out), cwd=out, env=env, timeout_s=timeout_s)
        shutil.rmtree(out, ignore_errors=True)
    for round_no in range(1, runs + 1):
        for tool in tools:
            if round_no > (runs_by_tool or {}).get(tool.name, runs):
                continue
            out = work / f"{tool.name}-{round_no}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            argv = tool.argv(out)
            if quiet_wait_s > 0:
                share = wait_for_quiet_machine(quiet_wait_s)
                if share >= 0.25:
                    print(f"    machine still {share:.0%} busy; measuring anyway", file=sys.stderr)
            print(f"[round {round_no}/{runs}] {tool.name}: {' '.join(argv)[:160]}", file=sys.stderr)
            measured = run_measured(argv, cwd=out, env=env, timeout_s=timeout_s)
            (out / "stdout.txt").write_text(measured.stdout)
            (out / "stderr.txt").write_text(measured.stderr)
            failure = None
            outcome = CrawlOutcome()
            if measured.returncode not in tool.ok_exit_codes:
                lines = (measured.stderr or measured.stdout).strip().splitlines()
                failure = f"exit code {measured.returncode}: {lines[-1] if lines else ''}"
            else:
                try:
                    outcome = tool.read(out, measured)
                except Exception as exc:  # noqa: BLE001 - reported in the table, others go on
                    failure = f"unreadable output: {exc}"
            record = RunRecord(tool.name, round_no, measured, outcome, failure)
            records.append(record)
            if failure:
                print(f"    FAILED ({failure}); output in {out}", file=sys.stderr)
                keep_this = True
            else:
                keep_this = False
            print(
                f"    wall {measured.wall_s:.2f} s, {record.pages} HTML pages "
                f"({len(outcome.ok_urls)} URLs 2xx, {len(outcome.error_urls)} errors), "
                f"{record.pages_per_s:.1f} pages/s, CPU {measured.cpu_s:.2f} s, "
                f"peak RSS {measured.peak_rss_mb:.0f} MB at {measured.peak_at_s:.0f} s, "
                f"other load {measured.other_load:.0%}"
                + (f", in-tool {outcome.crawl_s:.2f} s" if outcome.crawl_s else ""),
                file=sys.stderr,
            )
            if not keep and not keep_this and round_no < (runs_by_tool or {}).get(tool.name, runs):
                # Keep the last round's output for inspection; earlier ones only cost disk.
                shutil.rmtree(out, ignore_errors=True)
    return records


# --------------------------------------------------------------------------------------------
# Comparing URL sets


def _category(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path
    if parts.query:
        return "with a query string"
    if path.endswith("/"):
        return "directory (/)"
    suffix = Path(path).suffix.lower()
    return suffix or "no extension"


EXPLANATIONS = {
    ".css": "stylesheets from <link href>: wget follows every URL attribute; crawlers of <a href> don't",
    ".js": "scripts from <script src>: only wget follows them",
    ".png": "images from <img src>: only wget follows them",
    ".svg": "images/icons from <img src> or <link rel=icon>: only wget follows them",
    ".ico": "favicon from <link rel=icon>",
    ".txt": "reST sources (_sources/*.txt) linked by 'Show Source'",
    "with a query string": "versioned static files (?2022.1) from <link>/<script>",
    ".py": "the `<a download>` link to _downloads/.../tzinfo_examples.py: Scrapy's LinkExtractor "
    "drops hrefs whose extension is in IGNORED_EXTENSIONS (py included)",
    ".xml": "_static/opensearch.xml from <link rel=search>: only wget follows <link>",
}


def compare_sets(reference: set[str], other: set[str], n_examples: int = 4) -> dict[str, object]:
    only_ref = sorted(reference - other)
    only_other = sorted(other - reference)
    return {
        "both": len(reference & other),
        "only_ref": len(only_ref),
        "only_other": len(only_other),
        "only_ref_categories": Counter(_category(u) for u in only_ref).most_common(),
        "only_other_categories": Counter(_category(u) for u in only_other).most_common(),
        "only_ref_examples": only_ref[:n_examples],
        "only_other_examples": only_other[:n_examples],
    }


# --------------------------------------------------------------------------------------------
# Report


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{value:,.{digits}f}"


@dataclass
class Summary:
    tool: str
    label: str
    runs: int
    wall_s: float
    crawl_s: float | None
    pages: float
    ok_urls: float
    errors: float
    pages_per_s: float
    cpu_ms_per_page: float
    peak_rss_mb: float
    peak_single_rss_mb: float
    n_processes: int
    other_load: float
    failures: list[str]


def summarize(tools: list[Tool], records: list[RunRecord]) -> list[Summary]:
    out = []
    for tool in tools:
        all_runs = [r for r in records if r.tool == tool.name]
        rs = [r for r in all_runs if r.failure is None]
        failures = [f"round {r.round}: {r.failure}" for r in all_runs if r.failure]
        if not rs:
            nan = float("nan")
            out.append(
                Summary(
                    tool.name,
                    tool.label,
                    0,
                    nan,
                    None,
                    nan,
                    nan,
                    nan,
                    nan,
                    nan,
                    nan,
                    nan,
                    0,
                    nan,
                    failures,
                )
            )
            continue
        crawl = [r.outcome.crawl_s for r in rs if r.outcome.crawl_s is not None]
        out.append(
            Summary(
                tool=tool.name,
                label=tool.label,
                runs=len(rs),
                wall_s=median([r.measured.wall_s for r in rs]),
                crawl_s=median(crawl) if crawl else None,
                pages=median([r.pages for r in rs]),
                ok_urls=median([len(r.outcome.ok_urls) for r in rs]),
                errors=median([len(r.outcome.error_urls) for r in rs]),
                pages_per_s=median([r.pages_per_s for r in rs]),
                cpu_ms_per_page=median([r.cpu_ms_per_page for r in rs]),
                peak_rss_mb=median([r.measured.peak_rss_mb for r in rs]),
                peak_single_rss_mb=median([r.measured.peak_single_rss_mb for r in rs]),
                n_processes=max(r.measured.n_processes for r in rs),
                other_load=median([r.measured.other_load for r in rs]),
                failures=failures,
            )
        )
    return out


def results_table(summaries: list[Summary], concurrency: int) -> str:
    lines = [
        "| crawler | concurrency | runs | wall s | in-tool crawl s | HTML pages | URLs 2xx | errors "
        "| pages/s | client CPU ms/page | peak RSS MB (tree) | other load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        conc = "1" if s.tool == "wget" else str(concurrency)
        if s.runs == 0:
            lines.append(f"| {s.label} | {conc} | 0 | failed: {'; '.join(s.failures)[:300]} |")
            continue
        rss = _fmt(s.peak_rss_mb, 0)
        if s.n_processes > 1:
            rss += f" ({s.n_processes} processes; largest {_fmt(s.peak_single_rss_mb, 0)})"
        lines.append(
            f"| {s.label} | {conc} | {s.runs} | {_fmt(s.wall_s, 2)} | {_fmt(s.crawl_s, 2)} "
            f"| {_fmt(s.pages, 0)} | {_fmt(s.ok_urls, 0)} | {_fmt(s.errors, 0)} "
            f"| **{_fmt(s.pages_per_s, 1)}** | {_fmt(s.cpu_ms_per_page, 2)} | {rss} "
            f"| {s.other_load:.0%} |"
        )
    return "\n".join(lines)


def agreement_section(tools: list[Tool], records: list[RunRecord]) -> str:
    latest: dict[str, RunRecord] = {}
    for r in records:  # the last successful round of each tool
        if r.failure is None:
            latest[r.tool] = r
    names = [t.name for t in tools if t.name in latest]
    if not names:
        return "No tool finished a run."
    ref_name = next((n for n in names if n.startswith("linkwarehouse")), names[0])
    ref = latest[ref_name]
    lines = [
        f"Reference: {ref_name}, round {ref.round}. Sets of final URLs answered 2xx, each "
        "normalized with `ingest.urls.normalize_url` (fragments dropped; /robots.txt left out).",
        "",
        "| vs | set | both | only reference | only other |",
        "|---|---|---|---|---|",
    ]
    details: list[str] = []
    for tool in tools:
        if tool.name == ref_name or tool.name not in latest:
            continue
        other = latest[tool.name]
        for set_name, attr in (("HTML pages", "html_urls"), ("all URLs", "ok_urls")):
            cmp = compare_sets(getattr(ref.outcome, attr), getattr(other.outcome, attr))
            lines.append(
                f"| {tool.name} | {set_name} | {cmp['both']} | {cmp['only_ref']} "
                f"| {cmp['only_other']} |"
            )
            if cmp["only_ref"] or cmp["only_other"]:
                details.append(_difference_note(ref_name, tool.name, set_name, cmp))
    errors = {n: latest[n].outcome.error_urls for n in names}
    error_lines = []
    for name, errs in errors.items():
        if errs:
            shown = ", ".join(f"{u} ({s})" for u, s in sorted(errs.items())[:3])
            error_lines.append(f"- {name}: {len(errs)} non-2xx: {shown}")
    text = "\n".join(lines)
    if details:
        text += "\n\nDifferences:\n\n" + "\n".join(details)
    if error_lines:
        text += "\n\nBroken links each tool met:\n\n" + "\n".join(error_lines)
    return text


def _difference_note(ref: str, other: str, set_name: str, cmp: dict) -> str:
    def cats(items: list[tuple[str, int]]) -> str:
        parts = []
        for cat, n in items[:6]:
            why = EXPLANATIONS.get(cat)
            parts.append(f"{n} {cat}" + (f" ({why})" if why else ""))
        return "; ".join(parts)

    out = [f"- {other}, {set_name}:"]
    if cmp["only_ref"]:
        out.append(
            f"  only in {ref}: {cats(cmp['only_ref_categories'])}; e.g. "
            + ", ".join(cmp["only_ref_examples"])
        )
    if cmp["only_other"]:
        out.append(
            f"  only in {other}: {cats(cmp['only_other_categories'])}; e.g. "
            + ", ".join(cmp["only_other_examples"])
        )
    return "\n".join(out)


def targets_section(summaries: list[Summary]) -> tuple[str, bool]:
    by = {s.tool: s for s in summaries}
    lines = []
    missed = False
    adv = by.get("advertools")
    for s in summaries:
        if not s.tool.startswith("linkwarehouse"):
            continue
        if s.runs == 0:
            missed = True
            lines.append(f"- {s.tool}: **no successful run** ({'; '.join(s.failures)[:300]})")
            continue
        checks = [
            (
                f"{_fmt(s.pages_per_s, 0)} pages/s (target >= {TARGET_PAGES_PER_S:.0f})",
                s.pages_per_s >= TARGET_PAGES_PER_S,
            ),
            (
                f"peak RSS {_fmt(s.peak_rss_mb, 0)} MB (target <= {TARGET_PEAK_RSS_MB:.0f})",
                s.peak_rss_mb <= TARGET_PEAK_RSS_MB,
            ),
        ]
        if adv is not None and adv.runs and adv.pages_per_s > 0:
            ratio = s.pages_per_s / adv.pages_per_s
            checks.append(
                (
                    f"{ratio:.1f}x advertools (target >= {TARGET_RATIO_VS_ADVERTOOLS:.0f}x)",
                    ratio >= TARGET_RATIO_VS_ADVERTOOLS,
                )
            )
        parts = [f"{text}: {'met' if ok else '**missed**'}" for text, ok in checks]
        if s.cpu_ms_per_page == s.cpu_ms_per_page and s.cpu_ms_per_page > 0:
            # What the same CPU work would allow with one whole core to itself (no neighbours).
            parts.append(f"CPU-bound ceiling on one core {1000 / s.cpu_ms_per_page:,.0f} pages/s")
        missed = missed or not all(ok for _, ok in checks)
        lines.append(f"- {s.tool}: " + "; ".join(parts))
    return "\n".join(lines), missed


def versions() -> dict[str, str]:
    def dist(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    git = run_text(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    lw = dist("linkwarehouse")
    if git and " " not in git:
        lw += f" (git {git}" + (", uncommitted changes)" if _git_dirty() else ")")
    return {
        "linkwarehouse": lw,
        "aiohttp": dist("aiohttp"),
        "httpx": dist("httpx"),
        "httpx-aiohttp": dist("httpx-aiohttp"),
        "selectolax": dist("selectolax"),
        "advertools": dist("advertools"),
        "scrapy": dist("scrapy"),
        "twisted": dist("twisted"),
        "wget": (run_text(["wget", "--version"]).splitlines() or ["?"])[0],
        "nginx": run_text(["nginx", "-v"]).replace("nginx version: ", "") or "?",
        "python3.11-doc": debian_package_version("python3.11-doc"),
    }


def _git_dirty() -> bool:
    return bool(run_text(["git", "-C", str(REPO), "status", "--porcelain", "--", "ingest"]))


def source_fingerprint(root: Path = REPO) -> str:
    """A hash of linkwarehouse's ingest sources, to name the code a run measured."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((root / "ingest").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def corpus_description(url: str) -> str:
    if DOC_ROOT.exists():
        html = [p for p in DOC_ROOT.rglob("*") if p.suffix in (".html", ".htm") and p.is_file()]
        size = sum(p.stat().st_size for p in html)
        return (
            f"Debian's python3.11-doc ({len(html)} .html files, {size / 1e6:.1f} MB of HTML) "
            f"served by nginx (one worker, bench/setup_nginx.sh) at {url}"
        )
    return f"the site at {url}"


def profile_linkwarehouse(
    url: str, concurrency: int, work: Path, transport: str, top: int = 25
) -> str:
    """One more linkwarehouse run under cProfile; the heaviest functions as text."""
    import pstats
    from io import StringIO

    out = work / f"profile-{transport}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    prof = out / "crawl.prof"
    argv = linkwarehouse_argv(url, out / "lw", concurrency, transport, "runner", profile_out=prof)
    measured = run_measured(argv, cwd=out, env=tool_env(), timeout_s=900).check()
    stream = StringIO()
    stats = pstats.Stats(str(prof), stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    by_self = _trim_pstats(stream.getvalue())
    stream = StringIO()
    stats = pstats.Stats(str(prof), stream=stream)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    by_cum = _trim_pstats(stream.getvalue())
    head = (
        f"cProfile (timer: process CPU time) of one more linkwarehouse run through `crawl_site` "
        f"({transport} transport, concurrency {concurrency}); under the profiler: wall "
        f"{measured.wall_s:.2f} s, CPU {measured.cpu_s:.2f} s, other load "
        f"{measured.other_load:.0%}. The timer is the process's CPU time, so CPU used by helper "
        "threads while the event loop waits shows up under `select.epoll.poll`. "
        f"Profile file: {prof}\n"
    )
    return (
        head
        + "\nBy own time (tottime):\n\n```\n"
        + by_self
        + "\n```\n\nBy cumulative time:\n\n```\n"
        + by_cum
        + "\n```"
    )


def _trim_pstats(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if "function calls" in ln), 0)
    return "\n".join(ln.rstrip() for ln in lines[start:] if ln.strip())


def build_report(
    args: argparse.Namespace,
    tools: list[Tool],
    records: list[RunRecord],
    lw_mode: str,
    profile_text: str | None,
    started: str,
) -> tuple[str, bool]:
    summaries = summarize(tools, records)
    machine = machine_description()
    vers = versions()
    targets, missed = targets_section(summaries)
    how = {
        "cli": "`linkwarehouse crawl URL --out DIR --concurrency C --allow-private --transport T`",
        "runner": "`crawl_site(site_from_start_url(url, transport=T, concurrency=C, "
        "per_host_concurrency=C, allow_private=True), run_dir)` in a fresh Python process "
        "(the CLI was missing or did not expose what the benchmark needs)",
    }[lw_mode]
    runs = max(r.round for r in records)
    parts = [
        f"Site: {corpus_description(args.url)}. Measured {started} with "
        f"`{' '.join(['python bench/crawl.py', *sys.argv[1:]])}`; medians of the runs column "
        f"({runs} interleaved round{'s' if runs != 1 else ''}), every tool on the same machine "
        "in the same run.",
        "",
        results_table(summaries, args.concurrency),
        "",
        "- wall s: the whole process, start-up and imports included (what a user waits for); "
        "in-tool crawl s: the tool's own figure (Scrapy's `elapsed_time_seconds`, "
        "linkwarehouse's crawl_run.json) where it reports one. pages/s = HTML pages / wall s.",
        "- client CPU: user + sys of the process tree (os.wait4 rusage, children included). "
        "peak RSS: the largest sum of RSS over the process tree, sampled from /proc every 50 ms "
        "(advertools runs `scrapy runspider` in a child of the Python that calls `crawl`). "
        "other load: share of all cores busy with processes outside the measured tree during "
        "the run (nginx included, about 0.1 ms a page); each run waits up to "
        f"{args.quiet_wait:.0f} s for a quiet machine first.",
        "- Before the rounds every tool makes one unmeasured one-page run (bytecode caches, page "
        "cache); the tools run without PYTHONDONTWRITEBYTECODE, as a normal install would.",
        f"- linkwarehouse ran as {how}, with every feature on (defaults: robots.txt, link "
        "positions, body text, canonical/hreflang, Parquet landing).",
        "- advertools: `adv.crawl(url, 'crawl.jl', follow_links=True, "
        "allowed_domains=['127.0.0.1'], custom_settings={CONCURRENT_REQUESTS: C, "
        "CONCURRENT_REQUESTS_PER_DOMAIN: C})`; its default allowed_domains (the netloc with the "
        "port) makes Scrapy drop the start URL. wget: `wget -r -l inf --no-parent -nv -P DIR URL` "
        "(one connection; it does not parse beyond links and writes files).",
        "",
        "### Targets",
        "",
        targets,
        "",
        "### Agreement of the URL sets",
        "",
        agreement_section(tools, records),
        "",
        "### Machine and versions",
        "",
        f"- {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']} RAM, "
        f"{machine['os']}, kernel {machine['kernel']}, Python {machine['python']}",
        "- " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        f"- linkwarehouse code measured: a copy of `ingest/` taken at the start (sha256 of its "
        f".py files {args.source_before}), first on PYTHONPATH for every run"
        + (
            ""
            if args.source_after == args.source_before
            else f"; the working tree changed during the run (now {args.source_after})"
        ),
    ]
    if args.notes:
        parts += ["", "### Observations", "", Path(args.notes).read_text().strip()]
    if profile_text:
        parts += ["", "### Where linkwarehouse's time goes", "", profile_text]
    return "\n".join(parts), missed


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument(
        "--advertools-runs",
        type=int,
        default=None,
        help="rounds for advertools (default: --runs); it takes minutes per round",
    )
    parser.add_argument("--tools", default=",".join(ALL_TOOLS), help=",".join(ALL_TOOLS))
    parser.add_argument(
        "--linkwarehouse-via",
        choices=("auto", "cli", "runner"),
        default="auto",
        help="auto: the CLI when it exposes --transport, else crawl_site in a runner",
    )
    parser.add_argument("--write", action="store_true", help=f"replace {SECTION} in docs")
    parser.add_argument("--docs", type=Path, default=DOCS_FILE)
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=REPO / "bench" / "out" / "crawl",
        help="tools' output (emptied first; the last round is kept for inspection)",
    )
    parser.add_argument("--keep", action="store_true", help="keep every round's output")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per tool run")
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="cProfile one linkwarehouse run when a target is missed (auto)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each run, wait up to this many seconds for other processes to go quiet",
    )
    parser.add_argument("--notes", type=Path, default=None, help="Markdown added as Observations")
    parser.add_argument("--json", type=Path, default=None, help="also dump every run's figures")
    # The runner mode: one linkwarehouse crawl through crawl_site (used by the benchmark itself).
    parser.add_argument("--run-linkwarehouse", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--transport", default="aiohttp", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--max-pages", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def check_server(url: str) -> None:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read(1)
    except OSError as exc:
        raise SystemExit(
            f"{url} does not answer ({exc}); start it with `sudo bash bench/setup_nginx.sh`"
        ) from exc


def _record_json(r: RunRecord) -> dict[str, object]:
    return {
        "tool": r.tool,
        "round": r.round,
        "failure": r.failure,
        "wall_s": r.measured.wall_s,
        "user_s": r.measured.user_s,
        "sys_s": r.measured.sys_s,
        "peak_rss_mb": r.measured.peak_rss_mb,
        "peak_single_rss_mb": r.measured.peak_single_rss_mb,
        "peak_at_s": r.measured.peak_at_s,
        "other_load": r.measured.other_load,
        "pages": r.pages,
        "ok_urls": len(r.outcome.ok_urls),
        "errors": len(r.outcome.error_urls),
        "crawl_s": r.outcome.crawl_s,
        "notes": r.outcome.notes,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.run_linkwarehouse:
        return run_linkwarehouse_inline(
            args.url, args.out, args.concurrency, args.transport, args.profile_out, args.max_pages
        )
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    check_server(args.url)
    if "advertools" in names:
        try:
            import advertools  # noqa: F401
        except ImportError as exc:
            raise SystemExit(
                "advertools is missing: `uv sync --locked --group bench` installs it"
            ) from exc
    if "wget" in names and not shutil.which("wget"):
        raise SystemExit("wget is missing: bench/setup_nginx.sh installs it")

    lw_mode = "runner"
    if any(n.startswith("linkwarehouse") for n in names):
        if not _crawler_available():
            print(
                "linkwarehouse's crawler (ingest.crawl.crawler.crawl_site) is not there yet: "
                "measuring the peers only",
                file=sys.stderr,
            )
            names = [n for n in names if not n.startswith("linkwarehouse")]
        else:
            help_text = _cli_help() if args.linkwarehouse_via != "runner" else ""
            cli_ok = _cli_usable(help_text) and "--transport" in help_text
            if args.linkwarehouse_via == "cli" and not _cli_usable(help_text):
                raise SystemExit(
                    "`linkwarehouse crawl --help` lacks --out/--concurrency/--allow-private"
                )
            if args.linkwarehouse_via == "cli" or (args.linkwarehouse_via == "auto" and cli_ok):
                lw_mode = "cli"
    if not names:
        raise SystemExit("nothing to measure")

    tools = build_tools(names, args.url, args.concurrency, lw_mode)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    work = args.work_dir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    global SNAPSHOT_DIR
    SNAPSHOT_DIR = snapshot_sources(work)
    args.source_before = source_fingerprint(SNAPSHOT_DIR)
    runs_by_tool = {}
    if args.advertools_runs is not None:
        runs_by_tool["advertools"] = max(1, min(args.advertools_runs, args.runs))
    records = run_rounds(
        tools, args.runs, work, args.timeout, args.keep, args.quiet_wait, runs_by_tool
    )
    if args.json:
        args.json.write_text(json.dumps([_record_json(r) for r in records], indent=1))
    args.source_after = source_fingerprint()  # the working tree, which may have moved on
    report, missed = build_report(args, tools, records, lw_mode, None, started)
    lw_tools = [t for t in tools if t.name.startswith("linkwarehouse")]
    if lw_tools and (args.profile == "always" or (args.profile == "auto" and missed)):
        transport = lw_tools[0].name.split("-", 1)[1]
        print(f"profiling one linkwarehouse run ({transport})", file=sys.stderr)
        try:
            profile_text = profile_linkwarehouse(args.url, args.concurrency, work, transport)
        except RuntimeError as exc:
            profile_text = f"The profiled run failed: {exc}"
        report, missed = build_report(args, tools, records, lw_mode, profile_text, started)
    for r in records:
        for note in r.outcome.notes:
            print(f"note [{r.tool} round {r.round}]: {note}", file=sys.stderr)
    print(f"{SECTION}\n\n{report}")
    if args.write:
        args.docs.parent.mkdir(parents=True, exist_ok=True)
        replace_markdown_section(args.docs, SECTION, report, DOCS_TITLE)
        print(f"wrote {SECTION} in {args.docs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
