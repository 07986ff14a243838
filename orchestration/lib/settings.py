"""The resource every asset uses to find the config file and the data folder.

Both come from environment variables (Dagster `EnvVar`) so a test can point one run at its own
temporary folder without touching the others.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ingest.config import Config, default_config_path, load_config
from ingest.paths import data_dir


class LinkwarehouseSettings(dg.ConfigurableResource):
    """Paths of the YAML config and of `$LINKWAREHOUSE_DATA` (empty = the defaults)."""

    config_path: str = ""
    data_dir: str = ""

    def config(self) -> Config:
        return load_config(self.config_path or default_config_path())

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve() if self.data_dir else data_dir()


def settings_resource() -> LinkwarehouseSettings:
    return LinkwarehouseSettings(
        config_path=dg.EnvVar("LINKWAREHOUSE_CONFIG").get_value("") or "",
        data_dir=dg.EnvVar("LINKWAREHOUSE_DATA").get_value("") or "",
    )


def site_ids() -> list[str]:
    """Partition keys: the site ids of the config, read when definitions load."""
    return [site.id for site in load_config().sites]
