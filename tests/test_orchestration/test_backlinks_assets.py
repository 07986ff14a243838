"""The drop-folder sensor, the per-file partitions and the merge, run on a real instance."""

from __future__ import annotations

import gzip
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from demo.backlinks import samples
from demo.backlinks.generate import (
    AHREFS_FILE,
    EXPORTS,
    GSC_FILE,
    MAJESTIC_FILE,
    SEMRUSH_FILE,
)
from orchestration.defs.backlinks import build_defs
from orchestration.defs.backlinks.assets import BACKLINKS, BACKLINKS_MERGED, BACKLINKS_QUARANTINE
from orchestration.defs.backlinks.sensors import backlinks_sensor
from orchestration.lib.settings import LinkwarehouseSettings

# (rows in, landed, quarantined) of each committed demo export, imported for the demo site.
EXPECTED = {
    AHREFS_FILE: (36, 31, 5),
    SEMRUSH_FILE: (24, 21, 3),
    MAJESTIC_FILE: (19, 18, 1),
    GSC_FILE: (42, 40, 2),
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def defs(data: Path) -> dg.Definitions:
    return build_defs({"settings": LinkwarehouseSettings(data_dir=str(data))})


def drop(data: Path, name: str, as_name: str | None = None, age_s: float = 60) -> Path:
    folder = data / "imports" / "backlinks" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (as_name or name)
    shutil.copyfile(EXPORTS / name, target)
    past = time.time() - age_s
    os.utime(target, (past, past))
    return target


def tick(instance: dg.DagsterInstance, data: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"settings": LinkwarehouseSettings(data_dir=str(data))},
    )
    result = backlinks_sensor(context)
    assert isinstance(result, dg.SensorResult)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_the_definitions_load(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("backlinks_import_job").partitions_def is not None
    assert (
        defs.resolve_sensor_def("backlinks_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    )
    assert {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()} == {
        "backlinks/backlinks",
        "backlinks/backlinks_quarantine",
        "backlinks/backlinks_merged",
    }


def test_dropped_files_are_imported_once_each_and_then_merged(
    defs: dg.Definitions, data: Path
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first = tick(instance, data, None)
    assert first.run_requests == [] and first.skip_reason is not None

    for name in EXPECTED:
        drop(data, name)
    drop(data, AHREFS_FILE, as_name="copy of the same export.csv")  # same bytes, other name
    drop(data, SEMRUSH_FILE, as_name="still-copying.csv", age_s=0)  # not settled yet
    (data / "imports" / "backlinks" / "demo" / "partial.csv.part").write_text("x")
    second = tick(instance, data, first.cursor)
    keys = [r.partition_key for r in second.run_requests]
    assert len(keys) == 4 and len(set(keys)) == 4
    assert {r.run_key for r in second.run_requests} == set(keys)
    # The copy has the same bytes: only the first file (by name) of a content hash is imported.
    assert {k.split(":", 2)[2] for k in keys} == set(EXPECTED)
    assert sorted(instance.get_dynamic_partitions("backlink_files")) == sorted(keys)

    job = defs.resolve_job_def("backlinks_import_job")
    for request in second.run_requests:
        result = job.execute_in_process(partition_key=request.partition_key, instance=instance)
        assert result.success
        events = {
            m.asset_key: m.metadata
            for m in result.asset_materializations_for_node("backlinks_import")
        }
        meta = events[BACKLINKS]
        name = meta["file"].value
        expected = EXPECTED[name]
        assert (meta["rows_in"].value, meta["landed"].value, meta["quarantined"].value) == expected
        assert meta["rows_in"].value == (
            meta["landed"].value + meta["quarantined"].value + meta["blank_rows"].value
        )
        assert meta["dagster/row_count"].value == expected[1]
        assert meta["merged_duplicates"].value == 0
        quarantine = events[BACKLINKS_QUARANTINE]
        assert quarantine["dagster/row_count"].value == expected[2]
        preview = quarantine["quarantine_preview"].value
        assert preview.startswith("| file | row | reason | detail | source | target |")
        if name == SEMRUSH_FILE:
            assert (
                "| target_out_of_scope | www.competitor.example is not a host of this site |"
                in preview
            )
            assert meta["quarantine_reasons"].value == {
                "invalid_value": 1,
                "missing_source": 1,
                "target_out_of_scope": 1,
            }
        if name == GSC_FILE:
            assert "Top linking text.csv" in str(meta["skipped_members"].value)

    third = tick(instance, data, second.cursor)
    assert [r.job_name for r in third.run_requests] == ["backlinks_merge_job"]
    merge = defs.resolve_job_def("backlinks_merge_job").execute_in_process(instance=instance)
    assert merge.success
    merged = merge.asset_materializations_for_node("backlinks__backlinks_merged")[0].metadata
    assert (merged["rows_in"].value, merged["merged_rows"].value) == (82, 52)
    assert merged["merged_duplicates"].value == 30
    assert merged["multi_vendor_links"].value == 20
    table = pq.read_table(data / "landing" / "backlinks" / "demo" / "backlinks_merged.parquet")
    assert table.num_rows == 52

    fourth = tick(instance, data, third.cursor)
    assert fourth.run_requests == []  # nothing new, merge up to date
    drop(data, MAJESTIC_FILE, as_name="majestic again.csv")
    fifth = tick(instance, data, fourth.cursor)
    assert fifth.run_requests == []  # the same bytes under a new name are not imported twice


def test_rematerializing_a_partition_rewrites_the_same_landing_folder(
    defs: dg.Definitions, data: Path
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    drop(data, SEMRUSH_FILE)
    key = tick(instance, data, None).run_requests[0].partition_key
    job = defs.resolve_job_def("backlinks_import_job")
    assert job.execute_in_process(partition_key=key, instance=instance).success
    folders = sorted((data / "landing" / "backlinks" / "demo").iterdir())
    before = pq.read_table(folders[0] / "backlinks.parquet")
    assert job.execute_in_process(partition_key=key, instance=instance).success
    assert sorted((data / "landing" / "backlinks" / "demo").iterdir()) == folders
    assert pq.read_table(folders[0] / "backlinks.parquet").equals(before)
    assert folders[0].name == key.split(":")[1]


def test_a_partition_whose_file_is_gone_fails_with_a_clear_message(
    defs: dg.Definitions, data: Path
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    path = drop(data, MAJESTIC_FILE)
    key = tick(instance, data, None).run_requests[0].partition_key
    path.unlink()
    result = defs.resolve_job_def("backlinks_import_job").execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"no file with content hash {key.split(':')[1]}" in str(
        failure.event_specific_data.error
    )


def drop_bytes(data: Path, name: str, content: bytes) -> Path:
    folder = data / "imports" / "backlinks" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(content)
    past = time.time() - 60
    os.utime(target, (past, past))
    return target


def _semrush_with_blank_records(site_url: str) -> bytes:
    """One landed row, one refused row, two blank records."""
    header = samples.SEMRUSH_BACKLINKS_HEADER
    inside = samples.row_for(header, {"Source url": "https://a.example/", "Target url": site_url})
    outside = samples.row_for(
        header, {"Source url": "https://a.example/", "Target url": "https://elsewhere.example/"}
    )
    empty = [""] * len(header)
    return samples.encode_export(header, [inside, empty, outside, empty])


def test_blank_records_are_in_the_import_metadata(defs: dg.Definitions, data: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    site_url = LinkwarehouseSettings(data_dir=str(data)).config().site("demo").start_urls[0]
    drop_bytes(data, "blanks.csv", _semrush_with_blank_records(site_url))
    key = tick(instance, data, None).run_requests[0].partition_key
    result = defs.resolve_job_def("backlinks_import_job").execute_in_process(
        partition_key=key, instance=instance
    )
    meta = {
        m.asset_key: m.metadata for m in result.asset_materializations_for_node("backlinks_import")
    }[BACKLINKS]
    counts = tuple(meta[k].value for k in ("rows_in", "landed", "quarantined", "blank_rows"))
    assert counts == (4, 1, 1, 2)
    assert meta["rows_in"].value == (
        meta["landed"].value + meta["quarantined"].value + meta["blank_rows"].value
    )


def test_a_damaged_archive_fails_the_run_with_one_message_naming_it(
    defs: dg.Definitions, data: Path
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    header = samples.MAJESTIC_CSV_HEADER
    rows = [samples.row_for(header, {"Source URL": f"https://g.example/{i}"}) for i in range(3000)]
    packed = gzip.compress(samples.encode_export(header, rows))
    drop_bytes(data, "majestic.csv.gz", packed[: len(packed) // 2])
    key = tick(instance, data, None).run_requests[0].partition_key
    result = defs.resolve_job_def("backlinks_import_job").execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert "majestic.csv.gz!majestic.csv: the gzip stream is damaged or cut short" in message
    assert "EOFError" not in message


def test_the_merged_asset_materializes_without_any_import(data: Path) -> None:
    from orchestration.defs.backlinks.assets import backlinks_merged

    result = dg.materialize(
        [backlinks_merged],
        resources={"settings": LinkwarehouseSettings(data_dir=str(data))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    meta = result.asset_materializations_for_node("backlinks__backlinks_merged")[0]
    assert meta.asset_key == BACKLINKS_MERGED
    assert meta.metadata["merged_rows"].value == 0
