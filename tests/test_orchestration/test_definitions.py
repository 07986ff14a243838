"""Dagster wiring: definitions load (in process and through the CLI), and the crawl materializes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_and_validate() -> None:
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("crawl_job")
    assert job.partitions_def is not None
    assert "demo" in job.partitions_def.get_partition_keys()


def test_dagster_cli_validates_the_workspace(tmp_path: Path) -> None:
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", str(ROOT / "workspace.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_crawl_asset_materializes_the_demo_partition(
    demo_server, tmp_path: Path, monkeypatch
) -> None:
    from orchestration.defs.crawl.assets import CRAWL_LINKS, CRAWL_PAGES, crawl
    from orchestration.lib.settings import LinkwarehouseSettings

    monkeypatch.setenv("LINKWAREHOUSE_DEMO_URL", demo_server.base_url + "/")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [crawl],
        partition_key="demo",
        resources={"settings": LinkwarehouseSettings(data_dir=str(tmp_path))},
        instance=instance,
    )
    assert result.success
    materializations = {m.asset_key: m for m in result.asset_materializations_for_node("crawl")}
    pages = materializations[CRAWL_PAGES].metadata
    assert pages["complete"].value is True
    assert pages["pages"].value >= 2000
    assert pages["pages_per_s"].value > 0
    assert materializations[CRAWL_LINKS].metadata["dagster/row_count"].value > 50_000
    run_dirs = list((tmp_path / "landing" / "crawl" / "demo").iterdir())
    assert len(run_dirs) == 1
    assert (run_dirs[0] / "crawl_run.json").exists()
    logs = instance.all_logs(result.run_id)
    assert any("crawl progress" in (e.user_message or "") for e in logs)
