"""`make demo`: start the demo shop, materialize the crawl through Dagster, print a summary.

Runs against the persistent `$DAGSTER_HOME` instance so the run shows up in `make ui` afterwards.
"""

from __future__ import annotations

import os
import sys

DEMO_PORT = int(os.environ.get("LINKWAREHOUSE_DEMO_PORT", "8765"))


def main() -> int:
    from demo.server import DemoServer

    from ingest.paths import data_dir
    from orchestration.lib.instance import ensure_dagster_home

    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    os.environ["LINKWAREHOUSE_DATA"] = str(data)
    ensure_dagster_home(data / "dagster_home")

    import dagster as dg

    from ingest.crawl.report import report_run
    from ingest.paths import latest_finished_run

    try:
        server = DemoServer(port=DEMO_PORT)
    except OSError as exc:
        print(f"error: cannot start the demo site on 127.0.0.1:{DEMO_PORT}: {exc}", file=sys.stderr)
        print("set LINKWAREHOUSE_DEMO_PORT to a free port", file=sys.stderr)
        return 1
    with server:
        os.environ["LINKWAREHOUSE_DEMO_URL"] = server.base_url + "/"
        print(f"demo shop serving on {server.base_url}/")
        from orchestration.definitions import defs

        job = defs.resolve_job_def("crawl_job")
        result = job.execute_in_process(
            partition_key="demo", instance=dg.DagsterInstance.get(), raise_on_error=False
        )
    if not result.success:
        print("error: the crawl run failed; see the Dagster logs above", file=sys.stderr)
        return 1
    run_dir = latest_finished_run("demo", data)
    assert run_dir is not None
    print()
    print("\n".join(report_run(run_dir).lines()))
    print(f"\nDagster run {result.run_id}; browse it with `make ui`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
