"""`linkwarehouse` command line: the same library functions the Dagster assets call.

Every failure a user can cause (bad arguments, a config problem, an unreachable start URL) ends in
one line on stderr and a non-zero exit, never a traceback: the traceback is for our bugs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from ingest.config import ConfigError, CrawlSettings, SiteConfig, load_config
from ingest.urls import InvalidURL, normalize_url

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code attached."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + error
        raise CliError(f"{self.prog}: {message} (see --help)", EXIT_USAGE)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="linkwarehouse", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    crawl = sub.add_parser("crawl", help="crawl a site into a landing folder")
    crawl.add_argument("start_url", nargs="?", help="where to start (optional with --site)")
    crawl.add_argument("--out", required=True, type=Path, help="run folder to write (resumable)")
    crawl.add_argument("--max-pages", type=_positive_int)
    crawl.add_argument("--max-depth", type=int)
    crawl.add_argument("--concurrency", type=_positive_int)
    crawl.add_argument(
        "--allow-private",
        action="store_true",
        help="allow loopback/private addresses (needed for sites on 127.0.0.1)",
    )
    crawl.add_argument("--transport", choices=("aiohttp", "httpx"))
    crawl.add_argument("--config", type=Path, help="YAML config file with per-site settings")
    crawl.add_argument("--site", help="site id in --config")
    crawl.set_defaults(func=run_crawl)
    for register in _extension_commands():
        register(sub)
    return parser


def _extension_commands() -> list:
    """Subcommands of the other sources, each defined beside its library code.

    Every module exposes `register(subparsers)`, which adds its parser and sets `func` to a
    handler `(args) -> int` that raises `CliError` (or `ConfigError`) for user-facing failures.
    """
    import importlib

    registers = []
    for module in ("ingest.sitemaps.cli", "ingest.gsc.cli", "ingest.backlinks.cli"):
        registers.append(importlib.import_module(module).register)
    return registers


def _site_for(args: argparse.Namespace) -> SiteConfig:
    overrides: dict[str, object] = {}
    for name in ("max_pages", "max_depth", "concurrency", "transport"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.concurrency:
        overrides["per_host_concurrency"] = args.concurrency
    if args.allow_private:
        overrides["allow_private"] = True

    if args.config or args.site:
        if not (args.config and args.site):
            raise CliError("--config and --site go together", EXIT_USAGE)
        site = load_config(args.config).site(args.site)
        crawl = site.crawl.model_copy(update=overrides)
        update: dict[str, object] = {"crawl": crawl}
        if args.start_url:
            update["start_urls"] = (_start_url(args.start_url),)
        return SiteConfig.model_validate({**site.model_dump(), **_dump(update)})
    if not args.start_url:
        raise CliError("crawl needs START_URL (or --config FILE --site ID)", EXIT_USAGE)
    start = _start_url(args.start_url)
    return SiteConfig(id="adhoc", start_urls=(start,), crawl=CrawlSettings(**overrides))


def _dump(update: dict[str, object]) -> dict[str, object]:
    return {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in update.items()}


def _start_url(text: str) -> str:
    try:
        return normalize_url(text)
    except InvalidURL as exc:
        raise CliError(f"bad START_URL: {exc}", EXIT_USAGE) from None


def run_crawl(args: argparse.Namespace) -> int:
    from ingest.crawl.crawler import crawl_site
    from ingest.crawl.report import report_run

    site = _site_for(args)
    crawl_site(site, args.out)
    report = report_run(args.out)
    fetched = sum(report.pages_by_state.get(s, 0) for s in ("ok", "redirect", "not_html"))
    if fetched == 0:
        raise CliError(f"start URL {site.start_urls[0]} unreachable: {_first_error(args.out)}")
    for line in report.lines():
        print(line)
    if report.stop_reason == "error_rate":
        raise CliError(f"crawl stopped: error rate stayed over the threshold ({args.out})")
    return 0


def _first_error(run_dir: Path) -> str:
    import pyarrow.parquet as pq

    for name, column in (("errors.parquet", "message"), ("pages.parquet", "error")):
        path = run_dir / name
        if path.exists():
            values = [v for v in pq.read_table(path, columns=[column])[column].to_pylist() if v]
            if values:
                return values[0]
    return "no page could be fetched"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        args = build_parser().parse_args(argv)
        if args.verbose:
            logging.getLogger().setLevel(logging.DEBUG)
        else:  # one INFO line per request from httpx would drown the progress lines
            logging.getLogger("httpx").setLevel(logging.WARNING)
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        print(f"error: invalid settings: {problems}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
