"""The landing files of one crawl run, written while it crawls, safe against a killed process.

Two copies of every flushed batch are written, for two different reasons:

* a *part file* (Arrow IPC, zstd) under `.state/parts/`, recorded in the frontier in the same
  transaction that marks its URLs done: this is what survives SIGKILL;
* a row group appended to the *final* Parquet file being built in `.state/` (ParquetWriter),
  renamed into `run_dir` when the crawl ends: this is what makes the end of a crawl cheap, with
  no second pass over the data (that pass cost as much as 0.6 ms a page and ~70 MB on a
  link-heavy site).

A killed process leaves the final files without a footer; on resume they are rebuilt from the
recorded parts (streamed batch by batch), and parts that were written but never recorded are
deleted, their URLs being back in the queue.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from ingest.crawl.parse_pool import LINK_FLAG_COLUMNS, LINK_STRING_COLUMNS, EncodedLinks
from ingest.landing import ERRORS_SCHEMA, LINKS_SCHEMA, PAGES_SCHEMA

KINDS = ("pages", "links", "errors")
SCHEMAS: dict[str, pa.Schema] = {
    "pages": PAGES_SCHEMA,
    "links": LINKS_SCHEMA,
    "errors": ERRORS_SCHEMA,
}
FINAL_NAMES = {"pages": "pages.parquet", "links": "links.parquet", "errors": "errors.parquet"}
_IPC_OPTIONS = ipc.IpcWriteOptions(compression="zstd")


class RunDirBusy(RuntimeError):
    """Another process is crawling into the same run_dir."""


def lock_run_dir(path: Path) -> Any:
    """An exclusive lock on the run's state, released by the OS even if the process is killed,
    so two overlapping runs (a retried Dagster step, a second CLI) cannot share one frontier."""
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole crawl
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise RunDirBusy(f"{path.parent.parent} is being crawled by another process") from exc
    return handle


class RunFiles:
    """Part files + final writers of one run. Used from one thread at a time (the flush)."""

    def __init__(self, run_dir: Path, state_dir: Path) -> None:
        self.run_dir = run_dir
        self.parts_dir = state_dir / "parts"
        self.building_dir = state_dir / "final"
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}

    # -- resume ------------------------------------------------------------------------------

    def remove_unrecorded(self, recorded: set[str]) -> int:
        """Delete part files the frontier never recorded (their URLs were requeued)."""
        removed = 0
        for path in self.parts_dir.iterdir():
            if path.name not in recorded:
                path.unlink()
                removed += 1
        return removed

    def open_final(self, replay: Iterable[tuple[str, str]] = ()) -> None:
        """Start the final files, first copying recorded parts (name, kind) when resuming."""
        self.building_dir.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            path = self.building_dir / FINAL_NAMES[kind]
            self._writers[kind] = pq.ParquetWriter(path, SCHEMAS[kind], compression="zstd")
        for name, kind in replay:
            with pa.memory_map(str(self.parts_dir / name)) as source:
                reader = ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    self._writers[kind].write_batch(reader.get_batch(i))

    # -- during the crawl -------------------------------------------------------------------------

    def write_flush(self, seq: int, tables: dict[str, pa.Table]) -> list[tuple[str, str, int]]:
        """Write one flush: a durable part per kind, then the same rows to the final files.

        Returns (part name, kind, rows) for the frontier to record.
        """
        written: list[tuple[str, str, int]] = []
        for kind, table in tables.items():
            if table.num_rows == 0:
                continue
            name = f"{seq:06d}-{kind}.arrow"
            _write_ipc_atomically(table, self.parts_dir / name)
            written.append((name, kind, table.num_rows))
        for kind, table in tables.items():
            if table.num_rows:
                self._writers[kind].write_table(table)
        return written

    def append_final(self, kind: str, table: pa.Table) -> None:
        """Rows that live only in the final file (regenerated at every finalize)."""
        if table.num_rows:
            self._writers[kind].write_table(table)

    # -- the end ------------------------------------------------------------------------------------

    def commit(self) -> None:
        """Close the final files and rename them into run_dir (each rename is atomic)."""
        for kind, writer in self._writers.items():
            writer.close()
            path = self.building_dir / FINAL_NAMES[kind]
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(path, self.run_dir / FINAL_NAMES[kind])
        self._writers.clear()

    def abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # closing a broken writer on the way out
                writer.close()
        self._writers.clear()


def _write_ipc_atomically(table: pa.Table, final: Path) -> None:
    tmp = final.with_name(f".{final.name}.tmp")
    with (
        pa.OSFile(str(tmp), "wb") as sink,
        ipc.new_file(sink, table.schema, options=_IPC_OPTIONS) as w,
    ):
        w.write_table(table)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


# --------------------------------------------------------------------------------------------
# Python rows -> Arrow, without pandas.
#
# pyarrow's `pa.array(list)` imports pandas on first use (its pandas shim probes every input),
# which costs ~0.7-2 s of CPU and ~50 MB of RSS in a crawler that never touches pandas. These
# builders go through C++ builders, buffers and casts instead, which never do.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_BOOL_TEXT = {True: "true", False: "false", None: None}
_INT_CODES = {8: "b", 16: "h", 32: "i", 64: "q"}


def table_from_columns(columns: Mapping[str, Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """A table with exactly `schema`'s columns from Python lists (missing columns are null)."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    arrays = []
    for field in schema:
        values = columns.get(field.name)
        if isinstance(values, pa.Array):
            arrays.append(values)
        else:
            arrays.append(_array([None] * n if values is None else values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def table_from_dict_rows(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Like landing.table_from_rows (a missing key is null, an extra key an error), no pandas."""
    names = set(schema.names)
    for row in rows:
        if not names.issuperset(row):
            raise KeyError(f"columns not in the landing schema: {sorted(set(row) - names)}")
    return table_from_columns({n: [row.get(n) for row in rows] for n in schema.names}, schema)


def _strings(values: Sequence[str | None]) -> pa.Array:
    """A string array from one buffer + offsets, every loop in C (join, encode, split, len,
    cumulative sum): 2-3x faster than appending value by value through a builder."""
    n = len(values)
    has_null = None in values
    texts: Sequence[str] = [v if v is not None else "" for v in values] if has_null else values  # type: ignore[misc]
    joined = "".join(texts)
    offsets: pa.Buffer | None = None
    if joined.isascii():
        data = joined.encode("ascii")
        lengths = array.array("i", [0])
        lengths.extend(map(len, texts))
    else:
        # Byte lengths without encoding value by value: encode once with a separator and split.
        # errors="replace": a lone surrogate from a broken page must not fail the whole batch.
        parts = "\x00".join(texts).encode("utf-8", "replace").split(b"\x00")
        if len(parts) != n:  # a value holds NUL itself: encode value by value
            parts = [t.encode("utf-8", "replace") for t in texts]
        data = b"".join(parts)
        lengths = array.array("i", [0])
        lengths.extend(map(len, parts))
    if n:
        sizes = pa.Array.from_buffers(pa.int32(), n + 1, [None, pa.py_buffer(lengths)])
        offsets = pc.cumulative_sum(sizes).buffers()[1]
    else:
        offsets = pa.py_buffer(array.array("i", [0]))
    validity = None
    if has_null:
        validity = _array([v is not None for v in values], pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(pa.string(), n, [validity, offsets, pa.py_buffer(data)])


def repeated_strings(values: Sequence[str], counts: Sequence[int]) -> pa.Array:
    """`values[i]` repeated `counts[i]` times (a page's URL on each of its links), decoded from
    a dictionary in C++ instead of building one Python string per row."""
    indices = array.array("i")
    for i, count in enumerate(counts):
        indices.extend(itertools.repeat(i, count))
    index_array = pa.Array.from_buffers(pa.int32(), len(indices), [None, pa.py_buffer(indices)])
    return pa.DictionaryArray.from_arrays(index_array, _strings(values)).cast(pa.string())


def _array(values: Sequence[Any], typ: pa.DataType) -> pa.Array:
    n = len(values)
    if pa.types.is_string(typ):
        return _strings(values)
    has_null = None in values
    if pa.types.is_boolean(typ):
        if not has_null:
            raw = pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(bytes(values))])
            return raw.cast(pa.bool_())
        return _strings([_BOOL_TEXT[v] for v in values]).cast(typ)
    if pa.types.is_integer(typ):
        if not has_null:
            buffer = array.array(_INT_CODES[typ.bit_width], values)
            return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(buffer)])
        return _strings([None if v is None else str(int(v)) for v in values]).cast(typ)
    if pa.types.is_floating(typ):
        if not has_null:
            raw = pa.Array.from_buffers(
                pa.float64(), n, [None, pa.py_buffer(array.array("d", values))]
            )
            return raw.cast(typ)
        return _strings([None if v is None else repr(float(v)) for v in values]).cast(typ)
    if pa.types.is_timestamp(typ):
        micros = [None if v is None else (v - _EPOCH) // _MICRO for v in values]
        return _array(micros, pa.int64()).cast(typ)
    if pa.types.is_list(typ) and pa.types.is_struct(typ.value_type):
        return _list_of_structs(values, typ)
    raise TypeError(f"no builder for {typ}")


def _list_of_structs(values: Sequence[Any], typ: pa.ListType) -> pa.Array:
    struct = typ.value_type
    names = [struct.field(i).name for i in range(struct.num_fields)]
    children: dict[str, list[Any]] = {name: [] for name in names}
    offsets = [0]
    total = 0
    for items in values:
        for item in items or ():
            for name in names:
                children[name].append(item.get(name))
        total += len(items) if items else 0
        offsets.append(total)
    child_arrays = [_array(children[name], struct.field(name).type) for name in names]
    flat = pa.StructArray.from_arrays(child_arrays, fields=list(struct))
    offset_array = _array(offsets, pa.int32())
    if None in values:
        mask = _array([v is None for v in values], pa.bool_())
        return pa.ListArray.from_arrays(offset_array, flat, type=typ, mask=mask)
    return pa.ListArray.from_arrays(offset_array, flat, type=typ)


# --------------------------------------------------------------------------------------------
# Links: encoded per page where they are parsed, concatenated as bytes by the crawler.
#
# A link-heavy site has ~300 links a page; turning ~4,000 Python values a page into Arrow in the
# crawler's own process was its largest cost after parsing. The parser (often in the worker
# process) encodes each column once into bytes; the crawler only appends those bytes and, at
# flush, joins them and builds the arrays from buffers.


def _strings_from_chunks(datas: list[bytes], lengths: list[bytes]) -> pa.Array:
    sizes = array.array("i", [0])
    sizes.frombytes(b"".join(lengths))
    n = len(sizes) - 1
    offsets = pc.cumulative_sum(
        pa.Array.from_buffers(pa.int32(), n + 1, [None, pa.py_buffer(sizes)])
    )
    return pa.Array.from_buffers(
        pa.string(), n, [None, offsets.buffers()[1], pa.py_buffer(b"".join(datas))]
    )


class LinkBuffer:
    """The links of the pages since the last flush, as encoded column chunks."""

    def __init__(self) -> None:
        self.rows = 0
        self._strings: dict[str, tuple[list[bytes], list[bytes]]] = {
            name: ([], []) for name in (*LINK_STRING_COLUMNS, "target_key")
        }
        self._flags: dict[str, list[bytes]] = {name: [] for name in LINK_FLAG_COLUMNS}
        self._index: list[bytes] = []
        self._sources: list[str] = []
        self._source_keys: list[str] = []
        self._counts: list[int] = []

    def add(self, links: EncodedLinks, source_url: str, source_key: str) -> None:
        if not links.n:
            return
        for name, (data, lengths) in links.strings.items():
            datas, lens = self._strings[name]
            datas.append(data)
            lens.append(lengths)
        for name, flags in links.flags.items():
            self._flags[name].append(flags)
        self._index.append(links.link_index)
        self._sources.append(source_url)
        self._source_keys.append(source_key)
        self._counts.append(links.n)
        self.rows += links.n

    def to_table(self) -> pa.Table:
        n = self.rows
        columns: dict[str, Any] = {
            "source_url": repeated_strings(self._sources, self._counts),
            "source_key": repeated_strings(self._source_keys, self._counts),
            "link_index": pa.Array.from_buffers(
                pa.int32(), n, [None, pa.py_buffer(b"".join(self._index))]
            ),
        }
        for name, (datas, lengths) in self._strings.items():
            columns[name] = _strings_from_chunks(datas, lengths)
        for name, chunks in self._flags.items():
            raw = pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(b"".join(chunks))])
            columns[name] = raw.cast(pa.bool_())
        return table_from_columns(columns, LINKS_SCHEMA)
