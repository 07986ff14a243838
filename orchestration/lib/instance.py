"""Local Dagster instance setup shared by `make demo`, `make ui` and the tests."""

from __future__ import annotations

import os
from pathlib import Path

DAGSTER_YAML = """\
telemetry:
  enabled: false
nux:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""


def ensure_dagster_home(default: Path) -> Path:
    """Create `$DAGSTER_HOME` (default under the data folder) with telemetry and first-run popup off."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(default))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"
    return home
