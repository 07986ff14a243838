"""Audit facts that need more than one file: duplicate URLs within and across sitemap files.

Why not a Python set or DuckDB: a run of 200 files of 50,000 URLs holds ten million keys. A set
of them makes memory grow with the number of files, and DuckDB's hash aggregate over them went
to 450 MB resident under a 256 MB limit (and ran out of memory under 64 MB). Instead every row's
64-bit `url_key` and file number are appended to a scratch file (12 bytes a row) while the run
streams, then counted partition by partition (keys split by their top bits), each partition small
enough to sort in memory. Memory stays at one partition, whatever the number of files.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAX_URLS_PER_FILE = 50_000  # sitemaps.org, for urlsets and for indexes alike
MAX_BYTES_PER_FILE = 52_428_800  # 50 MiB uncompressed
PARTITION_ROWS = 500_000  # rows sorted at once in the final pass (~20 MB of arrays)
_BUFFER_ROWS = 65_536
PAIR = np.dtype([("key", "<u8"), ("file", "<u4")])


def is_over_url_limit(n_entries: int) -> bool:
    return n_entries > MAX_URLS_PER_FILE


def is_over_size_limit(n_bytes: int) -> bool:
    return n_bytes > MAX_BYTES_PER_FILE


class DuplicateCounter:
    """Collects (url_key, file number) pairs on disk; `counts()` says, per file, how many of
    its rows repeat a URL listed earlier in the same file and how many rows list a URL that
    another file lists too."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.rows = 0
        self._keys: list[np.ndarray] = []
        self._files: list[np.ndarray] = []
        self._buffered = 0
        self._path = scratch / "pairs.bin"

    def add(self, file_number: int, url_keys: Sequence[str | None]) -> None:
        keys = np.fromiter((int(k, 16) for k in url_keys if k), dtype=np.uint64)
        if not len(keys):
            return
        self._keys.append(keys)
        self._files.append(np.full(len(keys), file_number, dtype=np.uint32))
        self._buffered += len(keys)
        self.rows += len(keys)
        if self._buffered >= _BUFFER_ROWS:
            self._spill()

    def _spill(self) -> None:
        if not self._buffered:
            return
        pairs = np.empty(self._buffered, dtype=PAIR)
        pairs["key"] = np.concatenate(self._keys)
        pairs["file"] = np.concatenate(self._files)
        self.scratch.mkdir(parents=True, exist_ok=True)
        with open(self._path, "ab") as fh:
            pairs.tofile(fh)
        self._keys, self._files, self._buffered = [], [], 0

    def counts(self, n_files: int) -> tuple[np.ndarray, np.ndarray]:
        """(within, across): one count per file number, for files 0..n_files-1."""
        self._spill()
        within = np.zeros(n_files, dtype=np.int64)
        across = np.zeros(n_files, dtype=np.int64)
        if not self.rows:
            return within, across
        partitions = max(1, -(-self.rows // PARTITION_ROWS))
        if partitions == 1:
            _count(np.fromfile(self._path, dtype=PAIR), within, across)
        else:
            for part in self._partition(partitions):
                _count(np.fromfile(part, dtype=PAIR), within, across)
        return within, across

    def _partition(self, partitions: int) -> list[Path]:
        """Split the pairs by key range into files (read and written in bounded chunks)."""
        bits = max(1, int(np.ceil(np.log2(partitions))))
        paths = [self.scratch / f"part-{i:04d}.bin" for i in range(2**bits)]
        handles = [open(p, "ab") for p in paths]  # noqa: SIM115 - closed below
        try:
            with open(self._path, "rb") as fh:
                while True:
                    chunk = np.fromfile(fh, dtype=PAIR, count=PARTITION_ROWS)
                    if not len(chunk):
                        break
                    bucket = (chunk["key"] >> np.uint64(64 - bits)).astype(np.int64)
                    order = np.argsort(bucket, kind="stable")
                    chunk, bucket = chunk[order], bucket[order]
                    bounds = np.searchsorted(bucket, np.arange(len(paths) + 1))
                    for i, handle in enumerate(handles):
                        if bounds[i + 1] > bounds[i]:
                            chunk[bounds[i] : bounds[i + 1]].tofile(handle)
        finally:
            for handle in handles:
                handle.close()
        return [p for p in paths if p.stat().st_size]

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _count(pairs: np.ndarray, within: np.ndarray, across: np.ndarray) -> None:
    if not len(pairs):
        return
    pairs = np.sort(pairs, order=("key", "file"))
    keys, files = pairs["key"], pairs["file"].astype(np.int64)
    same_key = np.empty(len(keys), dtype=bool)
    same_key[0] = False
    same_key[1:] = keys[1:] == keys[:-1]
    same_file = np.empty(len(keys), dtype=bool)
    same_file[0] = False
    same_file[1:] = files[1:] == files[:-1]
    repeat = same_key & same_file  # the same URL again in the same file
    within += np.bincount(files[repeat], minlength=len(within))
    group = np.cumsum(~same_key) - 1  # one group per distinct key
    new_file = ~repeat  # first row of each (key, file) pair
    files_per_key = np.bincount(group, weights=new_file, minlength=group[-1] + 1)
    shared = files_per_key[group] > 1
    across += np.bincount(files[shared], minlength=len(across))
