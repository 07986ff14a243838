"""`linkwarehouse sitemaps URL_OR_FILE --out DIR`: read sitemaps into a landing folder.

URL_OR_FILE is a sitemap (or index) URL, a robots.txt URL (its `Sitemap:` lines are read), a site
root URL (robots.txt, else /sitemap.xml and /sitemap_index.xml), or a local sitemap file (an index
file's children are fetched). Problems with the sitemaps themselves are data, not failures: they
land in `sitemaps.parquet` and the command still succeeds; it fails (one line, exit 1) only when
nothing could be read at all.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ingest.cli import EXIT_FAILED, EXIT_USAGE, CliError


def register(subparsers: Any) -> None:
    """Add the `sitemaps` subcommand (called by ingest.cli._extension_commands)."""
    parser = subparsers.add_parser(
        "sitemaps", help="read a site's sitemaps and robots.txt into a landing folder"
    )
    parser.add_argument(
        "target", metavar="URL_OR_FILE", help="sitemap, robots.txt or site URL, or a local file"
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write")
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="allow loopback/private addresses (needed for sites on 127.0.0.1)",
    )
    parser.add_argument("--max-depth", type=int, help="index nesting to follow (default 5)")
    parser.add_argument("--no-robots-check", action="store_true",
                        help="skip per-URL robots.txt verdicts")  # fmt: skip
    parser.set_defaults(func=run_sitemaps)


def run_sitemaps(args: argparse.Namespace) -> int:
    from ingest.config import CrawlSettings, SiteConfig
    from ingest.sitemaps.collect import SitemapOptions, collect_sitemaps
    from ingest.sitemaps.discover import classify_input, origin_of
    from ingest.urls import InvalidURL, normalize_url

    target: str = args.target
    kind = classify_input(target)
    if kind == "file":
        path = Path(target)
        if not path.is_file():
            raise CliError(f"no such file: {target}", EXIT_USAGE)
        start = "http://localhost/"
    else:
        try:
            start = origin_of(normalize_url(target)) + "/"
        except InvalidURL as exc:
            raise CliError(f"bad URL_OR_FILE: {exc}", EXIT_USAGE) from None
    if args.max_depth is not None and args.max_depth < 0:
        raise CliError("--max-depth must be 0 or more", EXIT_USAGE)
    if args.out.exists() and not args.out.is_dir():
        raise CliError(f"--out {args.out} exists and is not a folder", EXIT_USAGE)
    site = SiteConfig(
        id="adhoc", start_urls=(start,), crawl=CrawlSettings(allow_private=args.allow_private)
    )
    overrides: dict[str, Any] = {}
    if args.max_depth is not None:
        overrides["max_depth"] = args.max_depth
    if args.no_robots_check:
        overrides["check_robots"] = False
    summary = collect_sitemaps(site, args.out, inputs=[target], options=SitemapOptions(**overrides))
    for line in summary.lines():
        print(line)
    if summary.n_sitemaps and summary.n_errors == summary.n_sitemaps and not summary.n_urls:
        first = _first_error(args.out)
        raise CliError(f"no sitemap could be read: {first}", EXIT_FAILED)
    if not summary.n_sitemaps:
        raise CliError(f"no sitemap found for {target}", EXIT_FAILED)
    return 0


def _first_error(out: Path) -> str:
    import pyarrow.parquet as pq

    errors = pq.read_table(out / "sitemaps.parquet", columns=["error"])["error"].to_pylist()
    return next((e for e in errors if e), "unknown error")
