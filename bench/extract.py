"""Extraction benchmark: linkwarehouse's parse_page against bare selectolax link extraction.

Parses every HTML file of a folder (default Debian's python3.11-doc tree, 530 pages, ~50 MB,
~380 links a page) from memory, on one core, and reports MB/s and pages/s of:

- lexbor parse only (`LexborHTMLParser(body)`): the floor under everything else;
- bare selectolax links (`for a in tree.css("a[href]"): a.attributes["href"]`), the baseline's
  "links only" figure;
- links + positions: the same walk plus `PositionRules` (the baseline's "links + position"
  figure, 71 MB/s with CSS scoping);
- linkwarehouse `parse_page` (links with resolution, rel flags, anchors and positions, head
  signals, main text, word count and hash), with URL caches cleared before each round as in a
  fresh crawl (cross-page cache hits inside the round count, as they do in a crawl);
- the same with warm URL caches (every href already resolved once): the ceiling.

Rounds are interleaved (default 5) and the best CPU time (`time.process_time`, so neighbours on a
shared machine matter less) of each variant is reported. When parse_page is below the target
(70 MB/s) or with `--profile always`, one extra pass runs under cProfile and the top functions
are added to the report.

    python bench/extract.py                         # python3.11-doc, print Markdown
    python bench/extract.py /some/folder --runs 3
    python bench/extract.py --write                 # also replace `## Extract` in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    machine_description,
    median,
    replace_markdown_section,
    wait_for_quiet_machine,
)
from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from ingest import urls  # noqa: E402
from ingest.crawl import parse  # noqa: E402
from ingest.crawl.positions import LINK_CSS, REGION_CSS, PositionRules  # noqa: E402
from ingest.urls import Scope  # noqa: E402

DEFAULT_FOLDER = Path("/usr/share/doc/python3.11/html")
DEFAULT_BASE_URL = "https://docs.python.org/3.11/"
DOCS_FILE = REPO / "docs" / "benchmarks.md"
DOCS_TITLE = (
    "# Benchmarks\n\n"
    "Measured side by side with peer tools by the scripts in `bench/` (see `bench/README.md`); "
    "every figure in a section comes from one run on the machine that section names.\n"
)
SECTION = "## Extract"
TARGET_MB_S = 70.0
HEADERS = {"content-type": "text/html; charset=utf-8"}
LINKS_AND_REGIONS_CSS = f"{LINK_CSS}, {REGION_CSS}"
_factory = LexborHTMLParser("")
LINK_TAG_IDS = frozenset(_factory.create_node(name).tag_id for name in ("a", "area"))


@dataclass(frozen=True)
class Page:
    body: bytes
    url: str


@dataclass
class Variant:
    name: str
    run: Callable[[list[Page]], int]  # returns the number of links seen
    prepare: Callable[[], None] = lambda: None
    cpu_s: list[float] | None = None
    wall_s: list[float] | None = None
    links: int = 0


def load_pages(folder: Path, base_url: str, limit: int | None) -> list[Page]:
    paths = sorted(p for p in folder.rglob("*.html") if p.is_file())
    if limit:
        paths = paths[:limit]
    if not paths:
        raise SystemExit(f"no *.html files under {folder}")
    return [Page(p.read_bytes(), base_url + p.relative_to(folder).as_posix()) for p in paths]


def run_parse_only(pages: list[Page]) -> int:
    for page in pages:
        LexborHTMLParser(page.body)
    return 0


def run_bare_links(pages: list[Page]) -> int:
    n = 0
    for page in pages:
        tree = LexborHTMLParser(page.body)
        for node in tree.css("a[href]"):
            node.attributes.get("href")
            n += 1
    return n


def run_links_positions(pages: list[Page]) -> int:
    n = 0
    rules = PositionRules()
    for page in pages:
        tree = LexborHTMLParser(page.body, scripting=True)
        links, regions = [], []
        for node in tree.css(LINKS_AND_REGIONS_CSS):
            (links if node.tag_id in LINK_TAG_IDS else regions).append(node)
        located = rules.regions(tree, regions, page.body)
        for node in links:
            node.attributes.get("href")
            located.position_of(node)
            n += 1
    return n


def make_parse_page(scope: Scope) -> Callable[[list[Page]], int]:
    def run(pages: list[Page]) -> int:
        n = 0
        for page in pages:
            parsed = parse.parse_page(page.body, page.url, status=200, headers=HEADERS, scope=scope)
            n += len(parsed.links)
        return n

    return run


def clear_url_caches() -> None:
    """What a fresh crawler process starts with: no resolved hrefs, no normalized URLs."""
    parse._resolvers.clear()
    urls.join_url.cache_clear()
    urls._normalize_cached.cache_clear()
    urls._scope_contains.cache_clear()


def measure(variants: list[Variant], pages: list[Page], runs: int, quiet_wait: float) -> None:
    for variant in variants:
        variant.cpu_s, variant.wall_s = [], []
    for round_no in range(runs):
        if quiet_wait > 0:
            wait_for_quiet_machine(quiet_wait)
        for variant in variants:
            variant.prepare()
            gc.collect()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            variant.links = variant.run(pages)
            variant.cpu_s.append(time.process_time() - cpu0)  # type: ignore[union-attr]
            variant.wall_s.append(time.perf_counter() - wall0)  # type: ignore[union-attr]
        print(f"round {round_no + 1}/{runs} done", file=sys.stderr)


def profile_parse_page(pages: list[Page], scope: Scope, top: int = 18) -> str:
    clear_url_caches()
    profiler = cProfile.Profile()
    run = make_parse_page(scope)
    profiler.runcall(run, pages)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return "\n".join(line.replace(str(REPO) + "/", "") for line in lines[start:])


def build_report(
    variants: list[Variant], pages: list[Page], folder: Path, runs: int, profile: str | None
) -> tuple[str, bool]:
    total_mb = sum(len(p.body) for p in pages) / 1e6
    bare = next(v for v in variants if v.name.startswith("bare"))
    bare_cpu = min(bare.cpu_s or [float("nan")])
    rows = []
    missed = False
    for v in variants:
        cpu = min(v.cpu_s or [float("nan")])
        mb_s = total_mb / cpu
        if v.name.startswith("linkwarehouse parse_page (cold"):
            missed = mb_s < TARGET_MB_S
        rows.append(
            f"| {v.name} | {mb_s:.1f} | {len(pages) / cpu:.0f} | {cpu / len(pages) * 1e3:.2f} "
            f"| {bare_cpu / cpu:.2f} | {median(v.wall_s or []):.2f} | "
            f"{(v.links / len(pages)) if v.links else 0:.0f} |"
        )
    machine = machine_description()
    lines = [
        f"Folder `{folder}`: {len(pages)} HTML files, {total_mb:.1f} MB, parsed from memory on one "
        f"core; best CPU time of {runs} interleaved rounds (`time.process_time`), wall is the "
        "median. Run `python bench/extract.py`.",
        "",
        "| variant | MB/s | pages/s | CPU ms/page | speed vs bare links | wall s (median) | links/page |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Target: parse_page >= {TARGET_MB_S:.0f} MB/s on this corpus: "
        + ("**missed**." if missed else "met."),
        "",
        f"Machine: {machine['nproc']} cores, {machine['cpu']}, {machine['memory']}, "
        f"{machine['os']}, Python {machine['python']}, selectolax {_version('selectolax')}.",
    ]
    if profile:
        lines += [
            "",
            "### Where parse_page spends its time (cProfile, one cold pass, sorted by own time)",
            "",
            "C calls into selectolax (parsing, `css()`, `attributes`, `text()`) count as own time of "
            "the Python function that makes them.",
            "",
            "```",
            profile,
            "```",
        ]
    return "\n".join(lines), missed


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="URL the folder is served at")
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds; best CPU reported")
    parser.add_argument("--limit", type=int, default=None, help="only the first N files")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto")
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0, help="wait for a quiet machine (s)"
    )
    parser.add_argument("--write", action="store_true", help=f"replace {SECTION} in the docs file")
    parser.add_argument("--docs", type=Path, default=DOCS_FILE)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.folder.is_dir():
        raise SystemExit(
            f"{args.folder} is not a folder (apt-get install python3.11-doc, or pass a folder)"
        )
    pages = load_pages(args.folder, args.base_url, args.limit)
    host = urls.host_of(urls.normalize_url(args.base_url))
    scope = Scope(frozenset({host}))
    parse_run = make_parse_page(scope)
    variants = [
        Variant("lexbor parse only", run_parse_only),
        Variant("bare selectolax links (`css('a[href]')` + href)", run_bare_links),
        Variant("links + positions (PositionRules)", run_links_positions),
        Variant("linkwarehouse parse_page (cold URL caches)", parse_run, clear_url_caches),
        Variant("linkwarehouse parse_page (warm URL caches)", parse_run),
    ]
    parse_run(pages)  # imports, selector compilation, first-call costs
    measure(variants, pages, args.runs, args.quiet_wait)
    report, missed = build_report(variants, pages, args.folder, args.runs, None)
    if args.profile == "always" or (args.profile == "auto" and missed):
        report, _ = build_report(
            variants, pages, args.folder, args.runs, profile_parse_page(pages, scope)
        )
    print(f"{SECTION}\n\n{report}")
    if args.write:
        args.docs.parent.mkdir(parents=True, exist_ok=True)
        replace_markdown_section(args.docs, SECTION, report, DOCS_TITLE)
        print(f"wrote {SECTION} in {args.docs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
