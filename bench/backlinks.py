"""Backlink import benchmark: a 1,000,000-row Ahrefs UTF-16 export, linkwarehouse vs pandas.

The export is generated once (demo.backlinks.synthetic: the real 37-column header, UTF-16 LE with
BOM, tabs, every field quoted, LF) into bench/out/backlinks/ (git-ignored) and reused. Each tool
then reads it in its own subprocess, so peak RSS is per tool (bench/common.py measures wall, CPU
of the process tree and peak RSS), in interleaved rounds:

- `linkwarehouse import`: `import_backlinks` (sniff, parse, normalize both URLs with the shared
  normalizer, scope check, quarantine, Parquet landing), streaming in chunks.
- `pandas.read_csv`: `encoding="utf-16", sep="\\t", dtype=str, keep_default_na=False` (the right
  options for this file: no type guessing, empty cells stay empty strings). Parsing only: no URL
  normalization, no output file.
- `pandas.read_csv, usecols`: the same, reading only the 14 columns the importer maps.
- `pandas.read_csv, chunksize=100000`: the streaming way to read it with pandas.

    python bench/backlinks.py                    # 1,000,000 rows, 1 round
    python bench/backlinks.py --rows 200000 --runs 3
    python bench/backlinks.py --write            # replace "## Backlinks" in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUT = ROOT / "bench" / "out" / "backlinks"
HEADING = "## Backlinks"
MAPPED_COLUMNS = [
    "Referring page URL",
    "Referring page title",
    "Target URL",
    "Anchor",
    "Nofollow",
    "UGC",
    "Sponsored",
    "Type",
    "First seen",
    "Last seen",
    "Lost",
    "Lost status",
    "UR",
    "Domain rating",
]

_LINKWAREHOUSE = """
import json, sys
from pathlib import Path
from ingest.backlinks.importer import import_backlinks
from ingest.config import site_from_start_url
site = site_from_start_url("http://127.0.0.1:8765/", "bench")
r = import_backlinks(Path(sys.argv[1]), site, Path(sys.argv[2]))
print(json.dumps({"rows": r.rows_in, "landed": r.landed, "quarantined": r.quarantined}))
"""

_PANDAS = """
import json, sys
import pandas as pd
mode, path = sys.argv[1], sys.argv[2]
options = dict(encoding="utf-16", sep="\\t", dtype=str, keep_default_na=False)
if mode == "usecols":
    options["usecols"] = json.loads(sys.argv[3])
if mode == "chunks":
    rows = sum(len(chunk) for chunk in pd.read_csv(path, chunksize=100_000, **options))
else:
    rows = len(pd.read_csv(path, **options))
print(json.dumps({"rows": rows}))
"""


def export_path(rows: int) -> Path:
    """The benchmark export for `rows` rows, generated once."""
    from demo.backlinks.synthetic import write_large_ahrefs_export

    path = OUT / f"ahrefs-{rows}-backlinks-subdomains.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        started = time.perf_counter()
        write_large_ahrefs_export(tmp, rows)
        tmp.replace(path)
        print(
            f"generated {path} ({path.stat().st_size / 2**20:,.0f} MiB) in "
            f"{time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    return path


def tools(path: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "linkwarehouse import (parse + normalize + land)": [
            py,
            "-c",
            _LINKWAREHOUSE,
            str(path),
            str(OUT / "landing"),
        ],
        "pandas.read_csv (parse only)": [py, "-c", _PANDAS, "all", str(path)],
        "pandas.read_csv, usecols (14 columns)": [
            py,
            "-c",
            _PANDAS,
            "usecols",
            str(path),
            json.dumps(MAPPED_COLUMNS),
        ],
        "pandas.read_csv, chunksize=100000": [py, "-c", _PANDAS, "chunks", str(path)],
    }


def run(rows: int, runs: int) -> str:
    from common import machine_description, median, run_measured

    path = export_path(rows)
    results: dict[str, list] = {name: [] for name in tools(path)}
    for _ in range(runs):
        for name, argv in tools(path).items():
            measured = run_measured(argv, cwd=ROOT, timeout_s=1800).check()
            got = json.loads(measured.stdout.strip().splitlines()[-1])
            assert got["rows"] == rows, (name, got)
            results[name].append(measured)
            print(
                f"{name}: {measured.wall_s:.1f} s, {measured.peak_rss_mb:,.0f} MB", file=sys.stderr
            )
    size = path.stat().st_size / 2**20
    lines = [
        f"One {rows:,}-row Ahrefs Backlinks export ({size:,.0f} MiB, UTF-16 LE with BOM, tab, "
        "every field quoted, 37 columns; `demo.backlinks.synthetic`), each tool in its own process, "
        f"median of {runs} run(s). `python bench/backlinks.py --rows {rows} --runs {runs}`.",
        "",
        "| tool | rows/s (wall) | rows/s (CPU) | wall s | CPU s | peak RSS MB | other load |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, measured in results.items():
        wall = median([m.wall_s for m in measured])
        cpu = median([m.cpu_s for m in measured])
        rss = median([m.peak_rss_mb for m in measured])
        load = median([m.other_load for m in measured])
        lines.append(
            f"| {name} | {rows / wall:,.0f} | {rows / cpu:,.0f} | {wall:.1f} | {cpu:.1f} "
            f"| {rss:,.0f} | {load:.0%} |"
        )
    machine = machine_description()
    lines += [
        "",
        "`other load`: share of the cores other processes used during the run (wall times",
        "stretch with it; CPU seconds much less).",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()) + ".",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    body = run(args.rows, args.runs)
    print(f"{HEADING}\n\n{body}")
    if args.write:
        from common import replace_markdown_section

        replace_markdown_section(ROOT / "docs" / "benchmarks.md", HEADING, body, "# Benchmarks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
