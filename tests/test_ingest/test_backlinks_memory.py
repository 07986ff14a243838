"""A 1,000,000-row Ahrefs export is imported in bounded memory (measured in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from demo.backlinks.synthetic import write_large_ahrefs_export

ROWS = 1_000_000
# The UTF-16 file is ~600 MB and pandas needs several GB for it; the streaming import must stay
# far below the file size whatever the row count (its caches are bounded).
MAX_PEAK_RSS_MB = 512

# Peak memory is the child's own high-water mark (`VmHWM`, reset at exec). `ru_maxrss` is not
# used: a child forked from a pytest process that has grown inherits that size in ru_maxrss.
_IMPORT = """
import json, sys
from pathlib import Path
from ingest.backlinks.importer import import_backlinks
from ingest.config import site_from_start_url

site = site_from_start_url("http://127.0.0.1:8765/", "big")
result = import_backlinks(Path(sys.argv[1]), site, Path(sys.argv[2]))
print(json.dumps({
    "rows_in": result.rows_in, "landed": result.landed, "quarantined": result.quarantined,
    "reasons": result.reasons, "duplicates": result.duplicates,
    "peak_rss_mb": next(
        int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")
    ) / 1024,
}))
"""


@pytest.mark.timeout(1200)  # a hang guard, not a speed check: 1M rows take minutes under load
def test_a_million_row_export_is_imported_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big-backlinks-subdomains.csv"
    counts = write_large_ahrefs_export(path, ROWS, compact=True)
    assert path.stat().st_size > 500 * 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT, str(path), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["rows_in"] == ROWS
    assert report["landed"] == counts["in_scope"] == 999_000
    assert report["quarantined"] == counts["out_of_scope"] == 1_000
    assert report["reasons"] == {"target_out_of_scope": 1_000}
    assert report["duplicates"] == 0
    assert report["peak_rss_mb"] < MAX_PEAK_RSS_MB, report
