"""The dbt project as Dagster sees it, in its own module (ARCHITECTURE.md, "Known traps").

`@dbt_assets` reads `manifest.json` when its module is imported, so the manifest must exist
before `orchestration.definitions` loads. `ensure_manifest()` (called on import here) parses the
project when the manifest is missing or older than any project file; `dagster dev` re-parses on
every load through `prepare_if_dev()`. Deployments run `dagster-dbt project prepare-and-package`
or `python -m orchestration.lib.dbt` at build time.

The manifest does not depend on the data folder: sources read landing files through relative
paths that DuckDB resolves with `file_search_path` (profiles.yml), so changing
`LINKWAREHOUSE_DATA` needs no re-parse.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The venv's dbt even when the venv is not on PATH (`.venv/bin/python -m ...`).
DBT_EXECUTABLE = shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))
_PROJECT_FILES = ("dbt_project.yml", "models", "macros", "tests")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_project_file(project_dir: Path) -> float:
    newest = 0.0
    for name in _PROJECT_FILES:
        path = project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.suffix in (".sql", ".yml", ".yaml", ".csv", ".md"):
                    newest = max(newest, child.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """True when manifest.json is missing or older than a model, macro or test file."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    return manifest.stat().st_mtime < _newest_project_file(project.project_dir)


def dbt_resource(project: DbtProject = dbt_project) -> DbtCliResource:
    """The `dbt` resource of the warehouse assets."""
    return DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)


def _parse(project: DbtProject) -> None:
    dbt_resource(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()


def ensure_manifest(project: DbtProject = dbt_project, *, force: bool = False) -> Path:
    """Parse the dbt project into `target/manifest.json` when needed; return the manifest path.

    Guarded like dagster-dbt's own preparer: two processes loading definitions at once parse
    once, and a reader never sees half a manifest.
    """
    if force or manifest_is_stale(project):
        run_with_concurrent_update_guard(project.manifest_path, _parse, project=project)
    return project.manifest_path


dbt_project.prepare_if_dev()
ensure_manifest()


if __name__ == "__main__":  # `python -m orchestration.lib.dbt`: prepare the manifest now
    print(ensure_manifest(force="--force" in sys.argv[1:]))
