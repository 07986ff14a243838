"""`make demo`: start the demo shop, ingest every source for site `demo`, print what was found.

Runs against the persistent `$DAGSTER_HOME` instance so the runs show up in `make ui` afterwards.
Steps: the crawl and the sitemaps (Dagster jobs), backlink exports (drop folder -> sensor -> import jobs), Search
Console (28 days through the real client from the fake API), then the warehouse (dbt models
and PageRank through Dagster) and its findings.
"""

import os
import sys
from collections.abc import Callable
from pathlib import Path

DEMO_PORT = int(os.environ.get("LINKWAREHOUSE_DEMO_PORT", "8765"))


def _section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def _crawl(instance, data: Path, base_url: str) -> list[str]:
    from ingest.crawl.report import report_run
    from ingest.paths import latest_finished_run
    from orchestration.definitions import defs

    job = defs.resolve_job_def("crawl_job")
    result = job.execute_in_process(partition_key="demo", instance=instance, raise_on_error=False)
    if not result.success:
        raise RuntimeError("the crawl run failed; see the Dagster logs above")
    run_dir = latest_finished_run("demo", data)
    assert run_dir is not None
    return [*report_run(run_dir).lines(), f"  dagster run: {result.run_id}"]


def _sitemaps(instance, data: Path, base_url: str) -> list[str]:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("sitemaps_job")
    result = job.execute_in_process(partition_key="demo", instance=instance, raise_on_error=False)
    if not result.success:
        raise RuntimeError("the sitemaps run failed; see the Dagster logs above")
    lines = []
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        meta = materialization.metadata
        line = (
            f"{materialization.asset_key.to_user_string()}: {meta['dagster/row_count'].value} rows"
        )
        if "by_kind" in meta:
            line += f"  by kind: {meta['by_kind'].value}  errors: {meta['errors'].value}"
        lines.append(line)
        if "run_dir" in meta:
            run_dir = meta["run_dir"].value
    lines.append(f"  files: {run_dir}")
    return lines


def _backlinks(instance, data: Path, base_url: str) -> list[str]:
    from orchestration.defs.backlinks.demo import import_demo_backlinks

    return import_demo_backlinks(instance, data, base_url)


def _search_console(instance, data: Path, base_url: str) -> list[str]:
    from demo.gsc_server import pull_demo_search_console
    from ingest.config import load_config

    lines = pull_demo_search_console(base_url + "/", days=28, site=load_config().site("demo"))
    # One line per day is too much for a summary: keep the totals and the inspection lines.
    return [line for line in lines if not line[:4].isdigit()]


def _warehouse(instance, data: Path, base_url: str) -> list[str]:
    from linking.warehouse import warehouse_summary
    from orchestration.defs.warehouse import materialize_warehouse

    result = materialize_warehouse(instance=instance)
    if not result.success:
        raise RuntimeError("the warehouse run failed; see the Dagster logs above")
    return warehouse_summary()


STEPS: list[tuple[str, Callable[..., list[str]]]] = [
    ("crawl", _crawl),
    ("sitemaps and robots.txt", _sitemaps),
    ("backlink exports", _backlinks),
    ("Search Console (fake API, real client)", _search_console),
    ("link-equity warehouse (dbt + PageRank)", _warehouse),
]


def main() -> int:
    from demo.server import DemoServer
    from ingest.paths import data_dir
    from orchestration.lib.instance import ensure_dagster_home

    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    os.environ["LINKWAREHOUSE_DATA"] = str(data)
    ensure_dagster_home(data / "dagster_home")

    import dagster as dg

    try:
        server = DemoServer(port=DEMO_PORT)
    except OSError as exc:
        print(f"error: cannot start the demo site on 127.0.0.1:{DEMO_PORT}: {exc}", file=sys.stderr)
        print("set LINKWAREHOUSE_DEMO_PORT to a free port", file=sys.stderr)
        return 1
    instance = dg.DagsterInstance.get()
    with server:
        os.environ["LINKWAREHOUSE_DEMO_URL"] = server.base_url + "/"
        print(f"demo shop serving on {server.base_url}/ ; data in {data}")
        for title, step in STEPS:
            _section(title)
            try:
                lines = step(instance, data, server.base_url)
            except Exception as exc:  # one failed step is reported; the demo stops there
                print(f"error: {title} failed: {exc}", file=sys.stderr)
                return 1
            print("\n".join(lines), flush=True)
    print("\nBrowse the runs and assets with `make ui`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
