"""What is inside an imported file: plain text, a ZIP of CSVs (GSC), an XLSX workbook, a gzip.

Why a layer of its own: exports arrive zipped (Search Console), gzipped (Majestic's API) or as
workbooks (Semrush, GSC via Sheets), and an archive is also the classic way to make an importer
write gigabytes from a kilobyte. Every archive is checked against `ArchiveLimits` from its
directory before anything is decompressed (member count, declared sizes, compression ratio,
nesting), and the decompressed bytes are counted again while streaming, because a header can lie.
The type is decided by the file's magic bytes, never its extension.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingest.backlinks.formats import BacklinkImportError

GiB = 1024**3
MiB = 1024**2


class ArchiveRefusedError(BacklinkImportError):
    """An archive that breaks a limit (zip bomb guard): nothing of it is imported."""


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on what an archive may expand to. A real export compresses 5-20x; a bomb, 1000x."""

    max_members: int = 64
    max_member_bytes: int = 2 * GiB
    max_total_bytes: int = 4 * GiB
    max_ratio: float = 250.0


@dataclass(frozen=True)
class Member:
    """One table in the file: a byte stream to sniff and parse, or a worksheet's rows."""

    name: str
    open_bytes: Callable[[], BinaryIO] | None = None
    rows: Callable[[], Iterator[list[str]]] | None = None
    kind: str = "text"


@dataclass(frozen=True)
class Skipped:
    """A member that was not read, and why (shown in the import report)."""

    name: str
    reason: str


_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_GZIP_MAGIC = b"\x1f\x8b"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".7z", ".rar", ".xlsx", ".xls", ".tar", ".bz2", ".xz")


DEFAULT_LIMITS = ArchiveLimits()


def open_members(
    path: Path, limits: ArchiveLimits = DEFAULT_LIMITS
) -> tuple[list[Member], list[Skipped]]:
    """The tables in `path`, after the archive checks; raises ArchiveRefusedError on a breach."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(_OLE_MAGIC):
        raise BacklinkImportError(
            "legacy Excel .xls workbooks are not supported: save the sheet as CSV or XLSX"
        )
    if magic.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        return _zip_members(path, limits)
    if magic.startswith(_GZIP_MAGIC):
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        member = Member(
            f"{path.name}!{name}",
            open_bytes=lambda: _Capped(
                gzip.open(path, "rb"),  # noqa: SIM115 - closed by _Capped.close
                limits.max_member_bytes,
                f"{path.name}!{name}",
                kind="gzip stream",
            ),
        )
        return [member], []
    return [Member(path.name, open_bytes=lambda: open(path, "rb"))], []


def _zip_members(path: Path, limits: ArchiveLimits) -> tuple[list[Member], list[Skipped]]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BacklinkImportError(f"not a readable ZIP archive: {exc}") from None
    with archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
    _check_archive(path.name, infos, limits)
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        return _xlsx_members(path)
    members: list[Member] = []
    skipped: list[Skipped] = []
    for info in infos:
        base = info.filename.rsplit("/", 1)[-1]
        if info.is_dir() or info.filename.startswith("__MACOSX/") or base.startswith("."):
            continue
        if base.lower().endswith(_ARCHIVE_SUFFIXES):
            skipped.append(
                Skipped(f"{path.name}!{info.filename}", "nested archives are not opened")
            )
            continue
        members.append(
            Member(
                f"{path.name}!{info.filename}",
                open_bytes=_zip_opener(path, info.filename, info.file_size, limits),
            )
        )
    if not members:
        raise BacklinkImportError(f"{path.name}: the ZIP archive holds no table to import")
    return members, skipped


def _check_archive(name: str, infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    files = [i for i in infos if not i.is_dir()]
    if len(files) > limits.max_members:
        raise ArchiveRefusedError(
            f"{name}: refused, {len(files)} files in the archive (limit {limits.max_members})"
        )
    total = 0
    for info in files:
        if info.file_size > limits.max_member_bytes:
            raise ArchiveRefusedError(
                f"{name}: refused, {info.filename} would expand to {info.file_size:,} bytes "
                f"(limit {limits.max_member_bytes:,})"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise ArchiveRefusedError(
                f"{name}: refused as a likely zip bomb, {info.filename} expands {ratio:,.0f}x "
                f"(limit {limits.max_ratio:,.0f}x)"
            )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise ArchiveRefusedError(
            f"{name}: refused, the archive would expand to {total:,} bytes "
            f"(limit {limits.max_total_bytes:,})"
        )


def _zip_opener(
    path: Path, member: str, declared: int, limits: ArchiveLimits
) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        label = f"{path.name}!{member}"
        archive = zipfile.ZipFile(path)
        try:
            stream = archive.open(member)
        except _DAMAGED as exc:
            archive.close()
            raise DamagedArchiveError(_damaged(label, "ZIP member", exc)) from None
        return _Capped(stream, min(declared, limits.max_member_bytes), label, closing=archive)

    return open_member


class DamagedArchiveError(BacklinkImportError):
    """An archive (or workbook) whose bytes cannot be decompressed or parsed: cut short, corrupt.

    Raised instead of the decompressor's own exception (EOFError, zlib.error, BadZipFile, an XML
    parse error...), so the CLI prints one line and Dagster one failure message naming the file
    and the member, and nothing of the file is committed (the import writes atomically).
    """


# What the standard decompressors raise on damaged input: a truncated gzip is EOFError, a bad
# deflate stream zlib.error, a CRC mismatch or bad local header BadZipFile (gzip's BadGzipFile is
# an OSError, as is a read error of the file itself).
_DAMAGED = (EOFError, zlib.error, zipfile.BadZipFile, OSError)


def _damaged(label: str, kind: str, exc: BaseException) -> str:
    detail = str(exc) or type(exc).__name__
    return f"{label}: the {kind} is damaged or cut short and cannot be read ({detail})"


class _Capped(io.RawIOBase):
    """A read-only stream that fails once more than `cap` bytes came out of it.

    It also turns the decompressor's exceptions on damaged bytes into DamagedArchiveError naming
    `name` (`archive!member`), because a raw EOFError says nothing about which file was bad.
    """

    def __init__(
        self,
        inner: BinaryIO,
        cap: int,
        name: str,
        closing: object = None,
        kind: str = "ZIP member",
    ) -> None:
        self._inner = inner
        self._cap = cap
        self._name = name
        self._kind = kind
        self._closing = closing
        self._seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except _DAMAGED as exc:
            raise DamagedArchiveError(_damaged(self._name, self._kind, exc)) from None
        self._seen += len(data)
        if self._seen > self._cap:
            raise ArchiveRefusedError(
                f"refused: {self._name} expanded past {self._cap:,} bytes while reading"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
            if self._closing is not None:
                self._closing.close()  # type: ignore[attr-defined]
        finally:
            super().close()


def _xlsx_members(path: Path) -> tuple[list[Member], list[Skipped]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise BacklinkImportError(f"{path.name}: not a readable XLSX workbook: {exc}") from None
    titles = list(workbook.sheetnames)
    workbook.close()

    def sheet_rows(title: str) -> Callable[[], Iterator[list[str]]]:
        def rows() -> Iterator[list[str]]:
            label = f"{path.name}!{title}"
            try:
                book = load_workbook(path, read_only=True, data_only=True)
            except Exception as exc:  # openpyxl raises many types for a broken workbook
                raise DamagedArchiveError(_damaged(label, "worksheet", exc)) from None
            try:
                sheet_rows = book[title].iter_rows(values_only=True)
                while True:
                    # Only the parse is guarded: an exception thrown into this generator by its
                    # consumer must pass through unchanged.
                    try:
                        values = next(sheet_rows)
                    except StopIteration:
                        return
                    except Exception as exc:  # XML, zlib, zip and openpyxl value errors
                        raise DamagedArchiveError(_damaged(label, "worksheet", exc)) from None
                    yield [cell_text(v) for v in values]
            finally:
                book.close()

        return rows

    members = [Member(f"{path.name}!{t}", rows=sheet_rows(t), kind="xlsx") for t in titles]
    return members, []


def cell_text(value: object) -> str:
    """A typed spreadsheet cell as the text a CSV export would have held."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
