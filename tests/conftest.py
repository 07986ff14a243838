"""Shared fixtures: a private Dagster home and data folder per test, and the demo shop server."""

from __future__ import annotations

from collections.abc import Iterator
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
