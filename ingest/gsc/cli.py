"""`linkwarehouse gsc pull` and `linkwarehouse gsc inspect`: the library calls the assets make.

    linkwarehouse gsc pull --site demo --start 2026-10-01 --end 2026-10-28
    linkwarehouse gsc inspect --site demo https://www.example.com/ https://www.example.com/a

Failures a user can fix (no gsc section, bad dates, 403, quota) end as one line via `CliError`.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from ingest.gsc.errors import GscConfigError, GscError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `gsc pull` and `gsc inspect` to the `linkwarehouse` parser."""
    gsc = subparsers.add_parser("gsc", help="Google Search Console: search analytics, inspection")
    sub = gsc.add_subparsers(dest="gsc_command", required=True, parser_class=type(gsc))

    pull = sub.add_parser("pull", help="land search analytics, one file per day")
    pull.add_argument("--site", required=True, help="site id in the config")
    pull.add_argument("--start", required=True, type=_date, help="first day (YYYY-MM-DD, Pacific)")
    pull.add_argument("--end", required=True, type=_date, help="last day, inclusive")
    pull.add_argument("--config", type=Path, help="YAML config (default: $LINKWAREHOUSE_CONFIG)")
    pull.set_defaults(func=run_pull)

    inspect = sub.add_parser("inspect", help="URL Inspection for URLs, within the daily budget")
    inspect.add_argument("--site", required=True, help="site id in the config")
    inspect.add_argument("urls", nargs="+", metavar="URL")
    inspect.add_argument("--config", type=Path, help="YAML config (default: $LINKWAREHOUSE_CONFIG)")
    inspect.set_defaults(func=run_inspect)


def run_pull(args: argparse.Namespace) -> int:
    from ingest.cli import EXIT_USAGE, CliError
    from ingest.config import load_config
    from ingest.gsc.budget import pacific_today
    from ingest.gsc.search_analytics import DayResult, pull_days

    if args.start > args.end:
        raise CliError(f"--start {args.start} is after --end {args.end}", EXIT_USAGE)
    today = pacific_today()
    if args.end > today:
        raise CliError(f"--end {args.end} is in the future (today is {today} Pacific)", EXIT_USAGE)
    site = load_config(args.config).site(args.site)

    def report(result: DayResult) -> None:
        print(result.line(), flush=True)

    try:
        results = pull_days(site, args.start, args.end, on_day=report, today=today)
    except GscConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except GscError as exc:
        raise CliError(str(exc)) from None
    rows = sum(r.rows for r in results)
    provisional = sum(r.provisional_rows for r in results)
    print(f"{rows} rows over {len(results)} days ({provisional} provisional) for {site.id}")
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from ingest.cli import EXIT_USAGE, CliError
    from ingest.config import load_config
    from ingest.gsc.inspection import inspect_urls, summarize

    site = load_config(args.config).site(args.site)
    try:
        run = inspect_urls(site, args.urls)
    except GscConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except GscError as exc:
        raise CliError(str(exc)) from None
    for row in run.rows:
        if row["error"]:
            print(f"{row['inspection_url']}: error: {row['error']}")
        else:
            canonical = row["google_canonical"] or "-"
            print(
                f"{row['url']}: {row['verdict']} - {row['coverage_state']} (Google canonical {canonical})"
            )
    for line in summarize(run):
        print(line)
    if run.failure:
        raise CliError(run.failure)
    if run.skipped_for_budget:
        raise CliError(
            f"{len(run.skipped_for_budget)} URLs not inspected: the daily budget of "
            f"{run.property_url} is used up; run them again tomorrow (Pacific time)"
        )
    return 0
