"""The console script: one-line errors with non-zero exits, and a real crawl through it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CLI = [sys.executable, "-m", "ingest.cli"]
ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("crawl",), "the following arguments are required: --out"),
        (("crawl", "ftp://x.com/", "--out", "o"), "bad START_URL"),
        (("crawl", "http://a.com/", "--out", "o", "--max-pages", "zero"), "--max-pages"),
        (("crawl", "--out", "o"), "crawl needs START_URL"),
        (("crawl", "--out", "o", "--site", "demo"), "--config and --site go together"),
        (("crawl", "--out", "o", "--config", "nope.yaml", "--site", "demo"), "cannot read config"),
        (("nope",), "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line_and_a_nonzero_exit(
    args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_unreachable_start_url_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(
        "crawl", f"http://127.0.0.1:{port}/", "--out", str(tmp_path / "o"), "--allow-private"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "unreachable" in errors[0], result.stderr


def test_a_loopback_site_needs_allow_private(tmp_path: Path, demo_server) -> None:
    result = run("crawl", demo_server.base_url + "/", "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "private" in result.stderr or "loopback" in result.stderr


def test_crawl_through_the_cli_with_the_demo_config(
    tmp_path: Path, demo_server, monkeypatch
) -> None:
    out = tmp_path / "run"
    result = run(
        "crawl",
        demo_server.base_url + "/",
        "--config",
        "demo/config.yaml",
        "--site",
        "demo",
        "--out",
        str(out),
        "--max-pages",
        "50",
    )
    assert result.returncode == 0, result.stderr
    assert "links:" in result.stdout
    pages = pq.read_table(out / "pages.parquet").to_pylist()
    assert len(pages) == 50  # max_pages caps the URLs landed, robots-blocked ones included
    assert "complete: False (stop reason: max_pages)" in result.stdout
