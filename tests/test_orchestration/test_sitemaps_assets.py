"""Dagster wiring of sitemaps: the definitions load beside the crawl, and the `sitemaps` asset
materializes the demo partition into landing/sitemaps/demo/<run>/ with readable metadata."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest


def test_the_project_definitions_include_the_sitemaps_job_and_assets() -> None:
    from orchestration.definitions import defs as merged

    dg.Definitions.validate_loadable(merged)
    job = merged.resolve_job_def("sitemaps_job")
    assert job.partitions_def is not None and "demo" in job.partitions_def.get_partition_keys()
    graph = merged.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"sitemaps/sitemap_urls", "sitemaps/sitemaps", "sitemaps/robots"} <= keys
    spec = graph.get(dg.AssetKey(["sitemaps", "robots"]))
    assert spec.group_name == "sitemaps"


def test_the_sitemaps_asset_materializes_the_demo_partition(
    demo_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    from orchestration.defs.sitemaps.assets import ROBOTS, SITEMAP_FILES, SITEMAP_URLS, sitemaps
    from orchestration.lib.settings import LinkwarehouseSettings

    monkeypatch.setenv("LINKWAREHOUSE_DEMO_URL", demo_server.base_url + "/")
    result = dg.materialize(
        [sitemaps],
        partition_key="demo",
        resources={"settings": LinkwarehouseSettings(data_dir=str(tmp_path))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    meta = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("sitemaps")}
    site = demo_server.site
    assert meta[SITEMAP_URLS]["dagster/row_count"].value == sum(
        len(locs) for locs in site.sitemap_files().values()
    )
    assert meta[SITEMAP_FILES]["dagster/row_count"].value == 6
    assert meta[SITEMAP_FILES]["errors"].value == 0
    assert "unexpected_content_type" in meta[SITEMAP_FILES]["files"].value
    assert "| blocked by robots.txt (our agent) | 1 |" in meta[SITEMAP_URLS]["preview"].value
    assert meta[ROBOTS]["dagster/row_count"].value == 1
    (run_dir,) = (tmp_path / "landing" / "sitemaps" / "demo").iterdir()
    assert pq.read_metadata(run_dir / "sitemap_urls.parquet").num_rows == (
        meta[SITEMAP_URLS]["dagster/row_count"].value
    )


def test_a_site_without_any_readable_sitemap_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs.sitemaps.assets import sitemaps
    from orchestration.lib.settings import LinkwarehouseSettings

    config = tmp_path / "config.yaml"
    config.write_text(
        "sites:\n  - id: demo\n    start_urls: ['http://127.0.0.1:9/']\n"
        "    crawl: {allow_private: true, retries: 0, timeout_s: 2}\n"
    )
    result = dg.materialize(
        [sitemaps],
        partition_key="demo",
        resources={
            "settings": LinkwarehouseSettings(config_path=str(config), data_dir=str(tmp_path))
        },  # fmt: skip
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message
    assert "no sitemap of demo could be read" in message
