"""Shared fixtures: a private Dagster home and data folder per test, and the demo shop server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test may write to ./data or a shared DAGSTER_HOME, nor phone home."""
    home = tmp_path_factory.mktemp("dagster_home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("LINKWAREHOUSE_DATA", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("LINKWAREHOUSE_CONFIG", raising=False)


@pytest.fixture(scope="session")
def demo_server() -> Iterator[object]:
    """One demo shop for the whole session: building and serving it is the slow part."""
    from demo.server import DemoServer

    with DemoServer() as server:
        yield server


@pytest.fixture(scope="session")
def demo_crawl(demo_server: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop crawled once with the demo config; tests read its landing files."""
    import os

    from ingest.config import load_config
    from ingest.crawl.crawler import crawl_site

    os.environ["LINKWAREHOUSE_DEMO_URL"] = demo_server.base_url + "/"  # type: ignore[attr-defined]
    try:
        site = load_config().site("demo")
    finally:
        del os.environ["LINKWAREHOUSE_DEMO_URL"]
    run_dir = tmp_path_factory.mktemp("demo_crawl") / "run"
    crawl_site(site, run_dir)
    return run_dir


@dataclass(frozen=True)
class DemoRun:
    """One `make demo` run (its Python entry point) in a private data folder."""

    data: Path
    returncode: int
    stdout: str
    stderr: str
    base_url: str

    @property
    def warehouse(self) -> Path:
        from linking.warehouse import warehouse_path

        return warehouse_path(self.data)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`python -m orchestration.demo_run` as `make demo` runs it: every source, then the warehouse.

    A subprocess, so it starts the way a user's shell does (its own demo shop on a free port,
    its own DAGSTER_HOME and data folder) and nothing of the test process leaks in. Tests then
    read its output and its warehouse file.
    """
    import os
    import socket
    import subprocess
    import sys

    data = tmp_path_factory.mktemp("make_demo") / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "LINKWAREHOUSE_DATA": str(data),
        "DAGSTER_HOME": str(data / "dagster_home"),
        "LINKWAREHOUSE_DEMO_PORT": str(port),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    env.pop("LINKWAREHOUSE_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.demo_run"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    return DemoRun(data, done.returncode, done.stdout, done.stderr, f"http://127.0.0.1:{port}")
