"""Backlink exports in Dagster: `build_defs()` is merged into `orchestration.definitions`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg


def build_defs(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    """Assets, jobs and the drop-folder sensor; the `settings` resource comes from the caller."""
    from orchestration.defs.backlinks.assets import backlinks_import, backlinks_merged
    from orchestration.defs.backlinks.sensors import (
        backlinks_import_job,
        backlinks_merge_job,
        backlinks_sensor,
    )

    return dg.Definitions(
        assets=[backlinks_import, backlinks_merged],
        jobs=[backlinks_import_job, backlinks_merge_job],
        sensors=[backlinks_sensor],
        resources=dict(resources or {}),
    )
