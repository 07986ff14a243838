"""The drop folder `$LINKWAREHOUSE_DATA/imports/backlinks/<site>/` and its partition keys.

Why content hashes: people export the same report twice, rename files, or drop last month's export
again. A file is identified by its SHA-256, so the same bytes are imported once whatever their name
(`<site>:<sha256[:16]>:<name>` is the partition key; the name is only there to be readable), and a
file changed in place is a new import. Hashing a large export costs a full read, so the hashes of
files seen before are kept by (size, mtime) in a small cache the caller persists (the sensor's
cursor). Files still being written are left alone until they have not changed for `settle_s`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from ingest.backlinks.importer import file_sha256
from ingest.paths import data_dir

_TEMPORARY = re.compile(r"(^\.|^~\$|\.(part|tmp|crdownload|download|partial)$)", re.IGNORECASE)
KEY_HASH_CHARS = 16


def drop_root(base: Path | None = None) -> Path:
    return (base or data_dir()) / "imports" / "backlinks"


def drop_dir(site_id: str, base: Path | None = None) -> Path:
    return drop_root(base) / site_id


@dataclass(frozen=True)
class DropFile:
    """A settled file in a site's drop folder, with its content hash."""

    site: str
    path: Path
    sha256: str
    size: int

    @property
    def partition_key(self) -> str:
        return partition_key(self.site, self.sha256, self.path.name)


def partition_key(site_id: str, sha256: str, name: str) -> str:
    """`<site>:<hash16>:<name>`; characters Dagster refuses in keys are replaced in the name."""
    safe = re.sub(r"[\x00-\x1f]|\.\.\.", "_", name)[:120]
    return f"{site_id}:{sha256[:KEY_HASH_CHARS]}:{safe}"


@dataclass(frozen=True)
class PartitionKey:
    site: str
    hash16: str
    name: str


def parse_partition_key(key: str) -> PartitionKey:
    site, hash16, name = key.split(":", 2)
    return PartitionKey(site, hash16, name)


def scan_drop_folder(
    site_ids: list[str],
    base: Path | None = None,
    hash_cache: dict[str, list] | None = None,
    settle_s: float = 5.0,
    now: float | None = None,
) -> tuple[list[DropFile], dict[str, list]]:
    """Settled files of every site's drop folder, and the updated hash cache.

    `hash_cache` maps a path to `[size, mtime_ns, sha256]`; a file whose size and mtime did not
    change is not read again.
    """
    now = time.time() if now is None else now
    old = hash_cache or {}
    cache: dict[str, list] = {}
    found: list[DropFile] = []
    for site_id in site_ids:
        folder = drop_dir(site_id, base)
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or _TEMPORARY.search(path.name):
                continue
            stat = path.stat()
            if now - stat.st_mtime < settle_s:
                continue  # still being written (or just dropped): next tick
            key = str(path)
            cached = old.get(key)
            if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
                sha = cached[2]
            else:
                sha = file_sha256(path)
            cache[key] = [stat.st_size, stat.st_mtime_ns, sha]
            found.append(DropFile(site_id, path, sha, stat.st_size))
    return found, cache


def find_drop_file(key: str, base: Path | None = None) -> Path | None:
    """The file a partition key stands for: by name first, else any file with the same hash."""
    parsed = parse_partition_key(key)
    folder = drop_dir(parsed.site, base)
    candidate = folder / parsed.name
    if candidate.is_file() and file_sha256(candidate).startswith(parsed.hash16):
        return candidate
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if (
                path.is_file()
                and path != candidate
                and not _TEMPORARY.search(path.name)
                and file_sha256(path).startswith(parsed.hash16)
            ):
                return path
    return None
