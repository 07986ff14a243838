"""A generated 200 MB (uncompressed) sitemap is refused at the 100 MiB cap with a message naming
the file, and memory stays bounded while it is read: measured as the peak RSS of a fresh
subprocess, never by timing.

The peak is the kernel's high-water mark of the child's own memory (`VmHWM`, reset when the child
execs). `resource.getrusage(RUSAGE_SELF).ru_maxrss` is reported beside it but not asserted on: a
child forked from a pytest process that has grown carries the parent's pages into ru_maxrss
(the kernel keeps the pre-exec high-water mark), so it says how big pytest was, not the parser.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNPACKED = 200 * 1024 * 1024
PAD = "abcdefghij" * 190  # ~1.9 KB URLs: the cap is reached after ~52,000 of them


@pytest.fixture(scope="module")
def big_sitemap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~200 MB of urlset, gzip-compressed on the fly (a few MB on disk, never in memory)."""
    path = tmp_path_factory.mktemp("big") / "sitemap-huge.xml.gz"
    written = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        head = (
            b'<?xml version="1.0"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        )
        out.write(head)
        written += len(head)
        i = 0
        while written < UNPACKED:
            block = "".join(
                f"<url><loc>https://shop.example/p/{n:08d}/{PAD}</loc></url>\n"
                for n in range(i, i + 1000)
            ).encode()
            out.write(block)
            written += len(block)
            i += 1000
        out.write(b"</urlset>\n")
    return path


def _run(script: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

READER = (
    PEAK
    + """
import json, resource, sys
from ingest.sitemaps.errors import SitemapError
from ingest.sitemaps.parse import SitemapReader

class Count:
    n = 0
    def url(self, entry): self.n += 1
    def child(self, loc, lastmod): pass
    def warn(self, code, message): pass

sink = Count()
reader = SitemapReader(sys.argv[1], sink, max_bytes=100 * 1024 * 1024)
error = None
with open(sys.argv[1], "rb") as fh:
    try:
        while chunk := fh.read(64 * 1024):
            reader.feed(chunk)
        reader.close()
    except SitemapError as exc:
        error = exc
print(json.dumps({"kind": error and error.kind, "message": str(error), "urls": sink.n,
                  "bytes": reader.bytes, "peak_mb": peak_mb(),
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
)


def test_the_reader_refuses_a_200_mb_sitemap_in_under_100_mb(big_sitemap: Path) -> None:
    out = _run(READER, str(big_sitemap))
    assert out["kind"] == "too_large"
    assert out["message"].startswith(f"{big_sitemap}: larger than the 100 MiB cap")
    assert out["bytes"] == 100 * 1024 * 1024
    assert 40_000 < out["urls"] < 60_000  # everything before the cap was read
    assert out["peak_mb"] < 100, out


END_TO_END = (
    PEAK
    + """
import json, resource, sys, threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from functools import partial
from pathlib import Path

from ingest.config import CrawlSettings, SiteConfig
from ingest.sitemaps.collect import SitemapOptions, collect_sitemaps
import pyarrow.parquet as pq

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
(folder / "small.xml").write_text(
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    '<url><loc>https://shop.example/</loc></url></urlset>'
)

class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
threading.Thread(target=httpd.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{httpd.server_address[1]}"
site = SiteConfig(id="big", start_urls=(base + "/",), crawl=CrawlSettings(allow_private=True))
collect_sitemaps(site, out / "warm", inputs=[base + "/small.xml"])  # imports, caches, pools
before = peak_mb()
url = base + "/sitemap-huge.xml.gz"
summary = collect_sitemaps(site, out / "big", inputs=[url])
peak = peak_mb()
(row,) = pq.read_table(out / "big" / "sitemaps.parquet").to_pylist()
print(json.dumps({"url": url, "error_kind": row["error_kind"], "error": row["error"],
                  "partial": row["is_partial"], "urls": summary.n_urls,
                  "compressed": row["compressed_bytes"], "before_mb": before, "peak_mb": peak,
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
)


def test_a_whole_run_over_http_refuses_it_with_memory_flat(
    big_sitemap: Path, tmp_path: Path
) -> None:
    out = _run(END_TO_END, str(big_sitemap.parent), str(tmp_path))
    assert out["error_kind"] == "too_large" and out["partial"]
    assert out["error"].startswith(f"too_large: {out['url']}: larger than the 100 MiB cap")
    assert 40_000 < out["urls"] < 60_000
    assert out["compressed"] < 20 * 1024 * 1024  # a few MB on the wire, 100 MiB unpacked
    assert out["peak_mb"] - out["before_mb"] < 100, out
