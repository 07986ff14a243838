"""The drop folder: settled files only, content hashes cached by size and mtime, keys that parse."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from ingest.backlinks import dropfolder
from ingest.backlinks.dropfolder import (
    drop_dir,
    find_drop_file,
    parse_partition_key,
    partition_key,
    scan_drop_folder,
)


def put(base: Path, site: str, name: str, data: bytes, age_s: float = 60) -> Path:
    folder = drop_dir(site, base)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    past = time.time() - age_s
    os.utime(path, (past, past))
    return path


def test_partition_keys_name_site_hash_and_file(tmp_path: Path) -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    key = partition_key("demo", sha, "Backlinks: export...final.csv")
    assert key == f"demo:{sha[:16]}:Backlinks: export_final.csv"
    parsed = parse_partition_key(key)
    assert (parsed.site, parsed.hash16, parsed.name) == (
        "demo",
        sha[:16],
        "Backlinks: export_final.csv",
    )


def test_only_settled_regular_files_of_configured_sites_are_found(tmp_path: Path) -> None:
    put(tmp_path, "demo", "a.csv", b"a")
    put(tmp_path, "demo", "fresh.csv", b"b", age_s=0)
    put(tmp_path, "demo", "download.csv.crdownload", b"c")
    put(tmp_path, "demo", ".hidden.csv", b"d")
    put(tmp_path, "demo", "~$locked.xlsx", b"e")
    put(tmp_path, "other-site", "x.csv", b"f")
    (drop_dir("demo", tmp_path) / "subfolder").mkdir()
    files, cache = scan_drop_folder(["demo", "absent"], tmp_path, settle_s=5)
    assert [f.path.name for f in files] == ["a.csv"]
    assert files[0].sha256 == hashlib.sha256(b"a").hexdigest()
    assert list(cache) == [str(drop_dir("demo", tmp_path) / "a.csv")]


def test_an_unchanged_file_is_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = put(tmp_path, "demo", "a.csv", b"abc")
    _, cache = scan_drop_folder(["demo"], tmp_path)
    calls: list[Path] = []
    monkeypatch.setattr(dropfolder, "file_sha256", lambda p: calls.append(p) or "0" * 64)
    files, _ = scan_drop_folder(["demo"], tmp_path, cache)
    assert calls == [] and files[0].sha256 == hashlib.sha256(b"abc").hexdigest()
    path.write_bytes(b"abcd")
    os.utime(path, (time.time() - 60, time.time() - 60))
    files, _ = scan_drop_folder(["demo"], tmp_path, cache)
    assert calls == [path] and files[0].sha256 == "0" * 64


def test_a_renamed_file_is_still_found_by_its_hash(tmp_path: Path) -> None:
    path = put(tmp_path, "demo", "first name.csv", b"content")
    key = partition_key("demo", hashlib.sha256(b"content").hexdigest(), path.name)
    assert find_drop_file(key, tmp_path) == path
    renamed = path.rename(path.with_name("second name.csv"))
    assert find_drop_file(key, tmp_path) == renamed
    renamed.write_bytes(b"changed")
    assert find_drop_file(key, tmp_path) is None
