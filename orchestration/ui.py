"""`make ui`: the demo shop in the background and `dagster dev` on 127.0.0.1 with the demo config.

`dagster dev` started from a script ignores SIGTERM, so it is started with SIGINT restored and
stopped with SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from demo.server import DemoServer
    from ingest.paths import data_dir
    from orchestration.lib.instance import ensure_dagster_home

    data = data_dir()
    os.environ["LINKWAREHOUSE_DATA"] = str(data)
    ensure_dagster_home(data / "dagster_home")
    port = int(os.environ.get("LINKWAREHOUSE_DEMO_PORT", "8765"))
    ui_port = os.environ.get("LINKWAREHOUSE_UI_PORT", "3000")
    with DemoServer(port=port) as server:
        os.environ["LINKWAREHOUSE_DEMO_URL"] = server.base_url + "/"
        print(f"demo shop on {server.base_url}/ ; Dagster UI on http://127.0.0.1:{ui_port}/")
        cmd = [
            "dagster",
            "dev",
            "-h",
            "127.0.0.1",
            "-p",
            ui_port,
            "-w",
            str(ROOT / "workspace.yaml"),
        ]
        proc = subprocess.Popen(
            cmd, cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
        )
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
