"""Import one backlink export: sniff, parse, normalize, quarantine, land.

`import_backlinks(path, site)` streams the file record by record and writes Parquet row groups of
`chunk_rows` rows, so memory stays flat whatever the file size (a 1,000,000-row Ahrefs export is
imported in well under 200 MB). Every record after the header is counted in `rows_in` and ends in
exactly one place: the landing file, the quarantine file, or the `blank_rows` count (a record whose
cells are all empty holds no link and is not a refusal either). So
`rows_in == landed + quarantined + blank_rows` holds by construction and is checked before anything
is committed. The landing folder is named by the file's content hash: importing the same bytes again,
under any name, rewrites the same folder with the same rows (idempotent).

Layout (`ingest.paths.landing_dir("backlinks", site)` / `<sha256[:16]>`):
`backlinks.parquet`, `backlinks_quarantine.parquet`, `quarantine.csv` (the refused rows for people,
spreadsheet-safe) and `import.json` (what was detected and counted), written last.
"""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.backlinks.containers import DEFAULT_LIMITS, ArchiveLimits, Member, Skipped, open_members
from ingest.backlinks.formats import (
    BacklinkImportError,
    DetectedFormat,
    NotABacklinkReportError,
    UnknownHeaderError,
    detect_format,
    looks_like_header,
)
from ingest.backlinks.normalize import RowNormalizer
from ingest.backlinks.schema import BACKLINKS_SCHEMA, QUARANTINE_SCHEMA
from ingest.backlinks.sniff import (
    SAMPLE_BYTES,
    Dialect,
    EmptyFileError,
    first_non_ascii,
    legacy_encoding,
    sniff_dialect,
    sniff_encoding,
)
from ingest.backlinks.values import spreadsheet_safe
from ingest.config import SiteConfig
from ingest.landing import atomic_path, write_json
from ingest.paths import landing_dir
from ingest.urls import Scope, UrlPolicy

IMPORTER_VERSION = 1
HEADER_SEARCH_RECORDS = 10
PREVIEW_ROWS = 20
GROUP_ROWS = 65_536  # Parquet row group size of the landing files

# -- decoding errors are counted, not raised: the rows that hold them go to quarantine ---------

_DECODE_ERRORS = "linkwarehouse-backlinks-mark"
_decode_error_count = [0]


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    _decode_error_count[0] += 1
    return ("\ufffd", exc.end)  # type: ignore[attr-defined]


codecs.register_error(_DECODE_ERRORS, _mark_undecodable)


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberReport:
    """What was read from one table of the file (a CSV, a ZIP member, a worksheet).

    `rows_in` counts every record after the header: `rows_in == landed + quarantined + blank_rows`.
    `warnings` are decisions a person should know about (an encoding switched mid-file, a date
    order assumed), which changed no count.
    """

    name: str
    vendor: str
    report: str
    label: str
    grain: str
    encoding: str
    delimiter: str
    rows_in: int
    landed: int
    quarantined: int
    blank_rows: int
    reasons: dict[str, int]
    unrecognized_columns: list[str]
    header_line: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    """The outcome of importing one file; `import.json` is this, as JSON."""

    site: str
    file: str
    file_hash: str
    out_dir: Path
    members: list[MemberReport]
    skipped: list[dict[str, str]]
    duplicates: int
    imported_at: str
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return sum(m.rows_in for m in self.members)

    @property
    def landed(self) -> int:
        return sum(m.landed for m in self.members)

    @property
    def quarantined(self) -> int:
        return sum(m.quarantined for m in self.members)

    @property
    def blank_rows(self) -> int:
        return sum(m.blank_rows for m in self.members)

    @property
    def warnings(self) -> list[str]:
        return [w for m in self.members for w in m.warnings]

    @property
    def reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for member in self.members:
            total.update(member.reasons)
        return dict(sorted(total.items()))

    @property
    def vendors(self) -> list[str]:
        return sorted({f"{m.vendor}/{m.report}" for m in self.members})

    @property
    def backlinks_path(self) -> Path:
        return self.out_dir / "backlinks.parquet"

    @property
    def quarantine_path(self) -> Path:
        return self.out_dir / "backlinks_quarantine.parquet"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data.update(
            rows_in=self.rows_in,
            landed=self.landed,
            quarantined=self.quarantined,
            blank_rows=self.blank_rows,
            reasons=self.reasons,
            importer_version=IMPORTER_VERSION,
        )
        return data


def error_message(file_name: str, exc: BacklinkImportError) -> str:
    """One line for a failed import that names the file once (archive errors already name it)."""
    text = str(exc)
    return text if text.startswith(file_name) else f"{file_name}: {text}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_dir_for(site_id: str, file_hash: str, base: Path | None = None) -> Path:
    return landing_dir("backlinks", site_id, base) / file_hash[:16]


# -- output sinks -----------------------------------------------------------------------------


class _ParquetSink:
    """Collects rows (as dicts or as column lists) and writes row groups of `group_rows` rows."""

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema, group_rows: int) -> None:
        self.writer = writer
        self.schema = schema
        self.group_rows = group_rows
        self.rows: list[dict[str, Any]] = []
        self.tables: list[pa.Table] = []
        self.buffered = 0
        self.written = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= 10_000:
            self._rows_to_table()

    def add_columns(self, columns: dict[str, list[Any]], n: int, constants: dict[str, Any]) -> None:
        """Append `n` rows given column-wise; `constants` fill the columns every row shares."""
        if n == 0:
            return
        arrays = []
        for fld in self.schema:
            if fld.name in columns:
                arrays.append(pa.array(columns[fld.name], type=fld.type))
            elif constants.get(fld.name) is not None:
                arrays.append(pa.repeat(pa.scalar(constants[fld.name], type=fld.type), n))
            else:
                arrays.append(pa.nulls(n, type=fld.type))
        self._buffer(pa.Table.from_arrays(arrays, schema=self.schema))

    def _rows_to_table(self) -> None:
        if self.rows:
            rows, self.rows = self.rows, []
            columns = {name: [r.get(name) for r in rows] for name in self.schema.names}
            self._buffer(pa.table(columns, schema=self.schema))

    def _buffer(self, table: pa.Table) -> None:
        self.tables.append(table)
        self.buffered += table.num_rows
        if self.buffered >= self.group_rows:
            self._write()

    def _write(self) -> None:
        if self.tables:
            table = pa.concat_tables(self.tables)
            self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
            self.written += table.num_rows
            self.tables, self.buffered = [], 0

    def close(self) -> None:
        self._rows_to_table()
        self._write()
        if self.written == 0:  # a file with no row group still needs its schema written
            self.writer.write_table(self.schema.empty_table())


class _Outputs:
    """The three data files of one import, each committed only if the whole import succeeds."""

    def __init__(self, out_dir: Path, stack: ExitStack) -> None:
        landed = stack.enter_context(atomic_path(out_dir / "backlinks.parquet"))
        refused = stack.enter_context(atomic_path(out_dir / "backlinks_quarantine.parquet"))
        csv_path = stack.enter_context(atomic_path(out_dir / "quarantine.csv"))
        self.landed = _ParquetSink(
            stack.enter_context(pq.ParquetWriter(landed, BACKLINKS_SCHEMA, compression="zstd")),
            BACKLINKS_SCHEMA,
            GROUP_ROWS,
        )
        self.quarantine = _ParquetSink(
            stack.enter_context(pq.ParquetWriter(refused, QUARANTINE_SCHEMA, compression="zstd")),
            QUARANTINE_SCHEMA,
            GROUP_ROWS,
        )
        handle = stack.enter_context(open(csv_path, "w", encoding="utf-8-sig", newline=""))  # noqa: SIM115
        self.csv = csv.writer(handle)
        self.csv.writerow(
            ["file", "row_number", "reason", "detail", "source_url", "target_url", "row"]
        )
        self.preview: list[dict[str, Any]] = []

    def refuse(self, row: dict[str, Any]) -> None:
        self.quarantine.add(row)
        self.csv.writerow(
            [
                spreadsheet_safe(str(row[c] if row[c] is not None else ""))
                for c in ("file", "row_number", "reason", "detail")
            ]
            + [
                spreadsheet_safe(row[c] or "")
                for c in ("source_url_raw", "target_url_raw", "raw_row")
            ]
        )
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.append(
                {
                    k: row[k]
                    for k in (
                        "file",
                        "row_number",
                        "reason",
                        "detail",
                        "source_url_raw",
                        "target_url_raw",
                    )
                }
            )

    def close(self) -> None:
        self.landed.close()
        self.quarantine.close()


# -- reading records --------------------------------------------------------------------------


@dataclass
class _Source:
    """Records of one member: (line number, cells) or (line number, CSV error message).

    `encoding` and `warnings` may change while `records` is consumed: a file sniffed as UTF-8 that
    turns out to be a legacy code page further down is re-read in that code page.
    """

    records: Iterator[tuple[int, list[str] | str]]
    encoding: str
    delimiter: str
    checks_decoding: bool
    warnings: list[str] = field(default_factory=list)


def _csv_records(text: io.TextIOWrapper, dialect: Dialect) -> Iterator[tuple[int, list[str] | str]]:
    """(physical line number, cells) of each record; a record the CSV reader refuses is a message."""
    offset = 0
    if dialect.sep_line:
        text.readline()
        offset = 1
    reader = csv.reader(text, delimiter=dialect.delimiter, strict=True)
    last = 0
    while True:
        try:
            for cells in reader:
                start, last = last + 1, reader.line_num
                yield start + offset, cells
            return
        except csv.Error as exc:  # the reader goes on with the next line
            start, last = last + 1, reader.line_num
            yield start + offset, f"unreadable CSV record: {exc}"


def _text_source(member: Member, declared_encoding: str | None) -> _Source:
    assert member.open_bytes is not None
    opener = member.open_bytes
    with opener() as probe:
        sample = probe.read(SAMPLE_BYTES)
    encoding = sniff_encoding(sample, declared_encoding)
    dialect = sniff_dialect(sample.decode(encoding.codec, errors="replace").lstrip("\ufeff"))
    # Only a guess can be revised: a BOM or a declared encoding is what the file or user said.
    revisable = declared_encoding is None and encoding.codec == "utf-8"

    def decoded(codec: str, errors: str) -> io.TextIOWrapper:
        raw = opener()
        buffered = raw if isinstance(raw, io.BufferedIOBase) else io.BufferedReader(raw)
        return io.TextIOWrapper(buffered, encoding=codec, errors=errors, newline="")

    def records() -> Iterator[tuple[int, list[str] | str]]:
        codec, errors = encoding.codec, ("strict" if revisable else _DECODE_ERRORS)
        done = 0  # records already handed out: a re-read skips them (they were plain ASCII)
        while True:
            try:
                with decoded(codec, errors) as text:
                    for i, record in enumerate(_csv_records(text, dialect)):
                        if i >= done:
                            done += 1
                            yield record
                return
            except UnicodeDecodeError:
                if errors != "strict":  # pragma: no cover - the marking handler never raises
                    raise
                codec = _revise_encoding(member, source)
                errors = _DECODE_ERRORS

    source = _Source(records(), encoding.label, dialect.label, True)
    return source


def _revise_encoding(member: Member, source: _Source) -> str:
    """The codec to re-read a file with that was sniffed as UTF-8 and then failed to decode.

    The sniff sees the first 64 KB only; a cp1252 export whose first accented character comes
    later is otherwise read as UTF-8 and its accented rows quarantined. If every byte before the
    first non-ASCII one is ASCII, the whole file is re-read in the code page detected from the
    bytes around that point: no character already read changes. If real UTF-8 text came first,
    the file is mixed: it stays UTF-8 and the rows with foreign bytes go to quarantine.
    """
    assert member.open_bytes is not None
    with member.open_bytes() as raw:
        found = first_non_ascii(raw)
    if found is None:  # pragma: no cover - a decode error implies a non-ASCII byte
        return "utf-8"
    if found.utf8:
        source.warnings.append(
            f"{member.name}: UTF-8 text and bytes that are not UTF-8 in one file: the rows with "
            f"those bytes are quarantined as undecodable_text"
        )
        return "utf-8"
    legacy = legacy_encoding(found.region)
    source.encoding = f"{legacy.codec} (detected at line {found.line:,})"
    source.warnings.append(
        f"{member.name}: read as UTF-8 (the first {SAMPLE_BYTES // 1024} KB are ASCII), but line "
        f"{found.line:,} (byte {found.offset:,}) is not UTF-8: the file was re-read as "
        f"{legacy.codec}"
    )
    return legacy.codec


def _sheet_source(member: Member) -> _Source:
    assert member.rows is not None
    rows = member.rows

    def records() -> Iterator[tuple[int, list[str] | str]]:
        yield from enumerate(rows(), start=1)

    return _Source(records(), "xlsx", "cells", False)


def _find_header(
    records: Iterator[tuple[int, list[str] | str]],
) -> tuple[int, DetectedFormat]:
    """The first record (of the first few) that is a known header; preamble lines are skipped."""
    first_error: BacklinkImportError | None = None
    seen = 0
    for line, cells in records:
        if isinstance(cells, str) or not any(c.strip() for c in cells):
            continue
        seen += 1
        if seen > HEADER_SEARCH_RECORDS:
            break
        if not looks_like_header(cells):
            continue
        try:
            return line, detect_format(cells)
        except NotABacklinkReportError:
            raise
        except UnknownHeaderError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    raise EmptyFileError("no header row: the file holds no table")


# -- the import -------------------------------------------------------------------------------


def import_backlinks(
    path: str | Path,
    site: SiteConfig,
    data_dir: Path | None = None,
    *,
    encoding: str | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
    chunk_rows: int = 4_096,
) -> ImportResult:
    """Import one export file for `site` into its landing folder and return what happened.

    Raises BacklinkImportError (or a subclass) for a file that cannot be imported at all: empty,
    unknown header, an export without links, an archive over the limits. Row-level problems never
    raise: those rows are quarantined with their reason.
    """
    path = Path(path)
    if not path.is_file():
        raise BacklinkImportError(f"no such file: {path}")
    file_hash = file_sha256(path)
    out_dir = import_dir_for(site.id, file_hash, data_dir)
    members, skipped = open_members(path, limits)
    with _gc_paused():
        return _import_members(
            path, site, data_dir, members, skipped, file_hash, out_dir, encoding, chunk_rows
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC while importing: rows are acyclic lists and strings, and the collector's
    passes over the growing heap cost ~40% of the import's CPU. Reference counting still frees
    every chunk as soon as it is written."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_members(
    path: Path,
    site: SiteConfig,
    data_dir: Path | None,
    members: list[Member],
    skipped: list[Skipped],
    file_hash: str,
    out_dir: Path,
    encoding: str | None,
    chunk_rows: int,
) -> ImportResult:
    skipped_out = [asdict(s) for s in skipped]
    reports: list[MemberReport] = []
    scope, policy = site.scope(), site.url_policy
    pairs = _PairCounter()
    with ExitStack() as stack:
        outputs = _Outputs(out_dir, stack)
        errors: list[BacklinkImportError] = []
        for member in members:
            try:
                reports.append(
                    _import_member(
                        member, file_hash, scope, policy, encoding, outputs, chunk_rows, pairs
                    )
                )
            except (UnknownHeaderError, NotABacklinkReportError, EmptyFileError) as exc:
                if len(members) == 1:
                    raise
                errors.append(exc)
                skipped_out.append(asdict(Skipped(member.name, str(exc))))
        if not reports:
            raise errors[0] if errors else BacklinkImportError(f"{path.name}: nothing to import")
        outputs.close()
        _check_counts(reports, outputs)
    result = ImportResult(
        site=site.id,
        file=path.name,
        file_hash=file_hash,
        out_dir=out_dir,
        members=reports,
        skipped=skipped_out,
        duplicates=pairs.duplicates(),
        imported_at=datetime.now(UTC).isoformat(),
        preview=outputs.preview,
    )
    write_json(result.to_json(), out_dir / "import.json")
    return result


def _check_counts(reports: Sequence[MemberReport], outputs: _Outputs) -> None:
    rows_in = sum(r.rows_in for r in reports)
    blank = sum(r.blank_rows for r in reports)
    landed, refused = outputs.landed.written, outputs.quarantine.written
    if landed + refused + blank != rows_in:  # pragma: no cover
        raise AssertionError(
            f"count mismatch: {rows_in} rows in, {landed} landed, {refused} quarantined, "
            f"{blank} blank"
        )


def _import_member(
    member: Member,
    file_hash: str,
    scope: Scope,
    policy: UrlPolicy,
    declared_encoding: str | None,
    outputs: _Outputs,
    chunk_rows: int,
    pairs: _PairCounter,
) -> MemberReport:
    errors_before = _decode_error_count[0]
    source = (
        _sheet_source(member) if member.kind == "xlsx" else _text_source(member, declared_encoding)
    )
    header_line, detected = _find_header(source.records)
    fmt = detected.format
    normalizer = RowNormalizer(detected, scope, policy)
    header = detected.header
    constant = {
        "vendor": fmt.vendor,
        "report": fmt.report,
        "file": member.name,
        "file_hash": file_hash,
    }
    landed_row = {**constant, "grain": fmt.grain}
    i_source, i_target = normalizer.i_source, normalizer.i_target
    if i_source is None and normalizer.grain == "linking_site":
        i_source = normalizer.i_domain
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    batch: list[list[str]] = []
    lines: list[int] = []
    counts_links = fmt.grain in ("link", "linking_page")

    def refuse(line: int, cells: list[str], reason: str, detail: str) -> None:
        reasons[reason] += 1
        outputs.refuse(
            {
                **constant,
                "row_number": line,
                "reason": reason,
                "detail": detail,
                "source_url_raw": _cell(cells, i_source),
                "target_url_raw": _cell(cells, i_target),
                "raw_row": _raw_json(header, cells) if cells else None,
            }
        )

    def flush() -> None:
        chunk = normalizer.normalize_chunk(batch)
        if chunk.rejected:
            refused = {i for i, _, _ in chunk.rejected}
            for i, reason, detail in chunk.rejected:
                refuse(lines[i], batch[i], reason, detail)
            kept_lines = [line for i, line in enumerate(lines) if i not in refused]
        else:
            kept_lines = lines
        chunk.columns["row_number"] = kept_lines
        outputs.landed.add_columns(chunk.columns, chunk.landed, landed_row)
        if counts_links:
            pairs.add(
                chunk.columns.get("source_key"), chunk.columns.get("target_key"), chunk.landed
            )
        counts["landed"] += chunk.landed
        batch.clear()
        lines.clear()

    for line, cells in source.records:
        if isinstance(cells, str):
            counts["rows_in"] += 1
            refuse(line, [], "malformed_row", cells)
            continue
        counts["rows_in"] += 1
        if not any(cells):
            counts["blank"] += 1
            continue
        if (
            source.checks_decoding
            and _decode_error_count[0] != errors_before
            and any("\ufffd" in c for c in cells)
        ):
            refuse(line, cells, "undecodable_text", f"bytes that are not valid {source.encoding}")
            continue
        batch.append(cells)
        lines.append(line)
        if len(batch) >= chunk_rows:
            flush()
    if batch:
        flush()
    rows_in, landed, blank = counts["rows_in"], counts["landed"], counts["blank"]
    return MemberReport(
        name=member.name,
        vendor=fmt.vendor,
        report=fmt.report,
        label=fmt.label,
        grain=fmt.grain,
        encoding=source.encoding,
        delimiter=source.delimiter,
        rows_in=rows_in,
        landed=landed,
        quarantined=rows_in - landed - blank,
        blank_rows=blank,
        reasons=dict(sorted(reasons.items())),
        unrecognized_columns=list(detected.unrecognized),
        header_line=header_line,
        warnings=[*source.warnings, *(f"{member.name}: {w}" for w in normalizer.warnings())],
    )


def _cell(cells: Sequence[str], index: int | None) -> str | None:
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _raw_json(header: Sequence[str], cells: Sequence[str]) -> str:
    row: dict[str, Any] = dict(zip(header, cells, strict=False))
    if len(cells) > len(header):
        row["_extra"] = list(cells[len(header) :])
    return json.dumps(row, ensure_ascii=False)


class _PairCounter:
    """Counts rows that repeat an earlier row's (source, target) pair, in 8 bytes a row.

    Each landed link row contributes one 64-bit hash of its pair (numpy arrays, not Python
    objects), so even 10 million rows cost 80 MB at most, and nothing is held per string.
    """

    def __init__(self) -> None:
        self.hashes: list[np.ndarray] = []

    def add(self, sources: list[str] | None, targets: list[str | None] | None, n: int) -> None:
        if not n or sources is None:
            return
        pairs = zip(sources, targets if targets is not None else repeat(None, n), strict=True)
        self.hashes.append(np.fromiter(map(hash, pairs), dtype=np.int64, count=n))

    def duplicates(self) -> int:
        if not self.hashes:
            return 0
        every = np.concatenate(self.hashes)
        return int(every.size - np.unique(every).size)


def read_import(out_dir: Path) -> dict[str, Any] | None:
    """The `import.json` of a landing folder, or None when the import never finished."""
    path = out_dir / "import.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())
