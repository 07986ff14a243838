"""Sitemap benchmark: linkwarehouse side by side with advertools.sitemap_to_df, in one run.

Two generated cases, served by a local HTTP server on 127.0.0.1 (a separate process, so its CPU
is not charged to either tool):

- one urlset of 50,000 URLs (loc, lastmod, changefreq, priority; 9 MB),
- a sitemap index of 200 such files, each gzip-compressed (10,000,000 URLs, 69 MB on the wire).

Each tool runs in a fresh process per case and round; reported: URLs, the tool's own call time
(after imports), URLs/s on it, the process's CPU and wall time, and the peak RSS of the process
tree. "Memory flat in the number of files" is read from linkwarehouse's peak RSS on one file vs
on the index of 200.

    python bench/sitemaps.py                  # both cases (3 rounds / 1 round), print Markdown
    python bench/sitemaps.py --runs 5 --cases single
    python bench/sitemaps.py --write          # also replace `## Sitemaps` in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Measured,
    machine_description,
    median,
    replace_markdown_section,
    run_measured,
    wait_for_quiet_machine,
)

DOCS_FILE = REPO / "docs" / "benchmarks.md"
DOCS_TITLE = (
    "# Benchmarks\n\n"
    "Measured side by side with peer tools by the scripts in `bench/` (see `bench/README.md`); "
    "every figure in a section comes from one run on the machine that section names.\n"
)
SECTION = "## Sitemaps"
URLS_PER_FILE = 50_000
TOOLS = ("linkwarehouse", "advertools")
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


# -- data -----------------------------------------------------------------------------------


def urlset(file_number: int, host: str) -> bytes:
    rows = [
        f"<url><loc>{host}/products/item-{file_number}-{k}/?ref=sitemap</loc>"
        f"<lastmod>2024-06-{1 + k % 28:02d}T10:{k % 60:02d}:00+00:00</lastmod>"
        f"<changefreq>weekly</changefreq><priority>0.{k % 10}</priority></url>"
        for k in range(URLS_PER_FILE)
    ]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NS}">\n'
        + "\n".join(rows)
        + "\n</urlset>\n"
    ).encode()


def generate(folder: Path, host: str, n_files: int) -> None:
    """Write `single.xml` and `index.xml` + `c000.xml.gz`...; reused when already there."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".generated-v2-{n_files}-{host.replace(':', '_').replace('/', '')}"
    if marker.exists():
        return
    (folder / "single.xml").write_bytes(urlset(0, host))
    (folder / "tiny.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NS}"><url><loc>{host}/</loc>'
        "</url></urlset>\n"
    )
    children = []
    for i in range(n_files):
        name = f"c{i:03d}.xml.gz"
        (folder / name).write_bytes(gzip.compress(urlset(i + 1, host), compresslevel=6, mtime=0))
        children.append(f"<sitemap><loc>{host}/{name}</loc></sitemap>")
    (folder / "index.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NS}">'
        + "".join(children)
        + "</sitemapindex>\n"
    )
    marker.touch()


# -- children (one tool, one case, in a fresh process) ----------------------------------------


def child_linkwarehouse(url: str, out: Path) -> dict:
    from ingest.config import CrawlSettings, SiteConfig
    from ingest.sitemaps.collect import collect_sitemaps

    base = url.rsplit("/", 1)[0]
    site = SiteConfig(id="bench", start_urls=(base + "/",),
                      crawl=CrawlSettings(allow_private=True))  # fmt: skip
    collect_sitemaps(site, out / "warm", inputs=[base + "/tiny.xml"])  # lazy imports, caches
    started = time.perf_counter()
    summary = collect_sitemaps(site, out, inputs=[url])
    return {"urls": summary.n_urls, "call_s": time.perf_counter() - started,
            "errors": summary.n_errors}  # fmt: skip


def child_advertools(url: str, out: Path) -> dict:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    import advertools as adv

    logging.disable(logging.CRITICAL)
    adv.sitemap_to_df(url.rsplit("/", 1)[0] + "/tiny.xml")  # lazy imports, caches
    started = time.perf_counter()
    df = adv.sitemap_to_df(url)
    elapsed = time.perf_counter() - started
    errors = int(df["errors"].notna().sum()) if "errors" in df else 0
    return {"urls": int(df["loc"].notna().sum()), "call_s": elapsed, "errors": errors}


# -- orchestration --------------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    case: str
    urls: int
    call_s: float
    errors: int
    measured: Measured


def serve(folder: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import urllib.request

    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/single.xml", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the sitemap server did not start on port {port}")


def run_child(tool: str, url: str, work: Path, timeout_s: float) -> tuple[dict | None, Measured]:
    out = work / f"out-{tool}"
    shutil.rmtree(out, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    measured = run_measured(
        [sys.executable, __file__, "--child", tool, "--url", url, "--out", str(out)],
        cwd=REPO,
        env=env,
        timeout_s=timeout_s,
    )
    shutil.rmtree(out, ignore_errors=True)
    lines = [ln for ln in measured.stdout.splitlines() if ln.startswith("{")]
    return (json.loads(lines[-1]) if measured.returncode == 0 and lines else None), measured


def versions() -> dict[str, str]:
    out = {}
    for name in ("advertools", "pandas", "pyarrow", "httpx", "aiohttp"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def report(results: list[Result], args: argparse.Namespace, started: str) -> str:
    cases = {"single": "1 urlset, 50,000 URLs (9 MB)",
             "index": f"index of {args.files} gzip urlsets, {args.files * URLS_PER_FILE:,} URLs"}  # fmt: skip
    rows = ["| case | tool | URLs | call s | URLs/s | process wall s | CPU s | peak RSS MB | vs advertools |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    summary: dict[tuple[str, str], dict[str, float]] = {}
    for case in args.cases:
        for tool in args.tools:
            mine = [r for r in results if r.tool == tool and r.case == case]
            if not mine:
                continue
            done = [r for r in mine if r.urls]
            if not done:
                wall = median([r.measured.wall_s for r in mine])
                rows.append(f"| {cases[case]} | {tool} | did not finish | > {wall:,.0f} | | "
                            f"{wall:,.0f} | | {median([r.measured.peak_rss_mb for r in mine]):,.0f} | |")  # fmt: skip
                summary[(case, tool)] = {
                    "rate": 0.0,
                    "rss": median([r.measured.peak_rss_mb for r in mine]),
                }
                continue
            call = median([r.call_s for r in done])
            rate = median([r.urls / r.call_s for r in done])
            rss = median([r.measured.peak_rss_mb for r in done])
            summary[(case, tool)] = {"rate": rate, "rss": rss}
            rows.append(
                f"| {cases[case]} | {tool} | {done[0].urls:,} | {call:,.2f} | {rate:,.0f} "
                f"| {median([r.measured.wall_s for r in done]):,.2f} "
                f"| {median([r.measured.cpu_s for r in done]):,.2f} | {rss:,.0f} | {{ratio:{case}:{tool}}} |"
            )
    text = "\n".join(rows)
    for case in args.cases:
        base = summary.get((case, "advertools"), {}).get("rate")
        for tool in args.tools:
            rate = summary.get((case, tool), {}).get("rate")
            ratio = (
                f"{rate / base:.1f}x" if base and rate else ("-" if tool == "advertools" else "")
            )
            if tool == "advertools":
                ratio = "1x" if base else "-"
            text = text.replace(f"{{ratio:{case}:{tool}}}", ratio)
    machine = machine_description()
    flat = ""
    single = summary.get(("single", "linkwarehouse"))
    index = summary.get(("index", "linkwarehouse"))
    if single and index:
        flat = (f"- Memory in the number of files: linkwarehouse peaked at {single['rss']:,.0f} MB "
                f"reading 1 file and {index['rss']:,.0f} MB reading {args.files} "
                f"({index['rss'] / single['rss']:.2f}x for {args.files}x the files and URLs).")  # fmt: skip
    targets = (
        "- Targets (issue 3): "
        + "; ".join(
            f"{case}: {summary[(case, 'linkwarehouse')]['rate'] / summary[(case, 'advertools')]['rate']:.1f}x "
            "advertools (goal >= 5x): "
            + (
                "met"
                if summary[(case, "linkwarehouse")]["rate"]
                >= 5 * summary[(case, "advertools")]["rate"]
                else "**missed**"
            )
            for case in args.cases
            if summary.get((case, "advertools"), {}).get("rate")
            and (case, "linkwarehouse") in summary
        )
        + ("; memory flat in the number of files: see above" if flat else "")
    )
    parts = [
        f"Measured {started} with `{' '.join(['python bench/sitemaps.py', *sys.argv[1:]])}`; "
        f"medians of {args.runs} round(s) for one file, {args.index_runs} for the index; "
        "files served by `python -m http.server` on "
        "127.0.0.1 (a separate process).",
        "",
        text,
        "",
        "- call s: the tool's own call (`collect_sitemaps(site, out, inputs=[url])` / "
        "`adv.sitemap_to_df(url)`), after imports and one unmeasured call on a one-URL sitemap "
        "in the same process (lazy imports: pyarrow loads pandas on first use); URLs/s = URLs "
        "/ call s. process wall s and "
        "CPU s: the whole child process (imports included); peak RSS: the process tree, sampled "
        "from /proc (bench/common.py).",
        "- linkwarehouse does more per URL than advertools: normalization and `url_key`, robots "
        "verdicts for two agents, every extension into typed columns, duplicate counts across "
        "files, Parquet landing. advertools parses each file into a whole ElementTree and "
        "concatenates every file's pandas DataFrame into one, all in memory.",
        flat,
        targets,
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']} RAM, "
        f"{machine['os']}, Python {machine['python']}; "
        + ", ".join(f"{k} {v}" for k, v in versions().items()),
    ]
    return "\n".join(p for p in parts if p is not None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of the single-file case")
    parser.add_argument("--index-runs", type=int, default=1, help="rounds of the index case")
    parser.add_argument("--cases", default="single,index")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--files", type=int, default=200, help="children of the index")
    parser.add_argument("--port", type=int, default=8911)
    parser.add_argument("--work-dir", type=Path, default=REPO / "bench" / "out" / "sitemaps")
    parser.add_argument("--timeout", type=float, default=3600, help="per run, seconds")
    parser.add_argument("--quiet-wait", type=float, default=60)
    parser.add_argument("--write", action="store_true", help=f"replace {SECTION} in docs")
    parser.add_argument("--docs", type=Path, default=DOCS_FILE)
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.cases = [c for c in args.cases.split(",") if c]
    args.tools = [t for t in args.tools.split(",") if t]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        run = child_linkwarehouse if args.child == "linkwarehouse" else child_advertools
        print(json.dumps(run(args.url, args.out)), flush=True)
        return 0
    # SIGTERM unwinds like Ctrl-C, so the file server below is always stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    host = f"http://127.0.0.1:{args.port}"
    generate(args.work_dir / "data", host, args.files)
    server = serve(args.work_dir / "data", args.port)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results: list[Result] = []
    try:
        for tool in args.tools:  # warm-up: bytecode and page caches, unmeasured
            run_child(tool, f"{host}/single.xml", args.work_dir, args.timeout)
        for round_ in range(max(args.runs, args.index_runs)):
            for case in args.cases:
                if round_ >= (args.runs if case == "single" else args.index_runs):
                    continue
                url = f"{host}/{'single.xml' if case == 'single' else 'index.xml'}"
                for tool in args.tools:
                    wait_for_quiet_machine(args.quiet_wait)
                    data, measured = run_child(tool, url, args.work_dir, args.timeout)
                    data = data or {"urls": 0, "call_s": measured.wall_s, "errors": -1}
                    results.append(Result(tool, case, data["urls"], data["call_s"],
                                          data["errors"], measured))  # fmt: skip
                    print(f"round {round_ + 1} {case} {tool}: {data['urls']:,} URLs in "
                          f"{data['call_s']:.1f}s, peak {measured.peak_rss_mb:.0f} MB",
                          file=sys.stderr, flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    body = report(results, args, started)
    print(f"{SECTION}\n\n{body}")
    if args.write:
        replace_markdown_section(args.docs, SECTION, body, DOCS_TITLE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
