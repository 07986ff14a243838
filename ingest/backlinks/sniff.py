"""Encoding and delimiter sniffing of text exports, from a sample of the first bytes.

Why sniff instead of asking: Ahrefs writes UTF-16 LE with a BOM and tabs into a file named `.csv`,
Semrush UTF-8 without a BOM and commas (or semicolons), Excel re-saves in the machine's legacy code
page, and GSC CSVs may carry a UTF-8 BOM. Users cannot be expected to know which. The BOM decides
when there is one; otherwise the NUL-byte pattern (BOM-less UTF-16), a strict UTF-8 check and
finally charset-normalizer for legacy single-byte files. The delimiter is the one under which the
header names are best recognized, so a comma inside a quoted title cannot fool it.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from typing import BinaryIO

from ingest.backlinks.formats import BacklinkImportError, recognized_columns

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ("\t", ",", ";")
DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE with BOM"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE with BOM"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE with BOM"),
)


class EmptyFileError(BacklinkImportError):
    """A file (or archive member) with no bytes, or nothing but a byte order mark."""


@dataclass(frozen=True)
class Encoding:
    """How to decode a file: the Python codec and what a person should be told."""

    codec: str
    label: str


def sniff_encoding(sample: bytes, declared: str | None = None) -> Encoding:
    """The encoding of a file from its first bytes (`declared` wins unless a BOM contradicts it)."""
    bom = next(((b, codec, label) for b, codec, label in _BOMS if sample.startswith(b)), None)
    if not sample or (bom is not None and len(sample) == len(bom[0])):
        raise EmptyFileError("the file is empty")
    if declared:
        return _declared(declared, bom)
    if bom is not None:
        return Encoding(bom[1], bom[2])
    utf16 = _bomless_utf16(sample)
    if utf16 is not None:
        return utf16
    if _is_utf8(sample):
        return Encoding("utf-8", "UTF-8")
    return _legacy(sample)


def _declared(declared: str, bom: tuple[bytes, str, str] | None) -> Encoding:
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        raise BacklinkImportError(f"unknown encoding {declared!r}") from None
    if bom is None:
        return Encoding(name, f"{name} (declared)")
    family = {"utf-8-sig": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}[bom[1]]
    if not name.replace("_", "-").startswith(family):
        raise BacklinkImportError(
            f"encoding {declared!r} was declared but the file starts with a {bom[2]} "
            f"byte order mark; import it without declaring an encoding"
        )
    return Encoding(bom[1], f"{bom[2]} (declared {declared})")


def _bomless_utf16(sample: bytes) -> Encoding | None:
    """UTF-16 without a BOM: text in Latin script has a NUL in every other byte."""
    head = sample[: 4096 - (4096 % 2)]
    if len(head) < 4:
        return None
    pairs = len(head) // 2
    zeros_odd = head[1::2].count(0)
    zeros_even = head[0::2].count(0)
    if zeros_odd > 0.3 * pairs and zeros_even < 0.05 * pairs:
        return Encoding("utf-16-le", "UTF-16 LE without BOM")
    if zeros_even > 0.3 * pairs and zeros_odd < 0.05 * pairs:
        return Encoding("utf-16-be", "UTF-16 BE without BOM")
    return None


def _is_utf8(sample: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # final=False: a sample cut in the middle of a multi-byte character is still UTF-8.
        decoder.decode(sample, final=len(sample) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        return False
    return True


# Single-byte and CJK code pages that spreadsheet exports are saved in. Restricting the guess keeps
# charset-normalizer from choosing an exotic code page that happens to fit a short sample.
_LEGACY_CANDIDATES = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "iso8859_15",
    "mac_roman",
    "cp850",
    "koi8_r",
    "shift_jis",
    "euc_jp",
    "gb18030",
    "big5",
    "euc_kr",
)


def legacy_encoding(sample: bytes) -> Encoding:
    """The legacy code page of `sample` (bytes known not to be UTF-8), for a mid-file re-read."""
    return _legacy(sample)


_NON_ASCII = re.compile(rb"[\x80-\xff]")


@dataclass(frozen=True)
class FirstNonAscii:
    """Where the first non-ASCII byte of a stream is, and what follows it.

    `utf8` says whether that byte starts a valid UTF-8 character: if it does, the file holds real
    UTF-8 text before whatever failed to decode (a mixed file); if it does not, everything before
    it is plain ASCII, which every legacy code page reads the same way, so the whole file can be
    re-read in a legacy encoding without changing a character already read.
    """

    offset: int
    line: int
    utf8: bool
    region: bytes


def first_non_ascii(stream: BinaryIO, block: int = 1 << 20) -> FirstNonAscii | None:
    """Scan `stream` (from its start) to its first byte >= 0x80; None if it is all ASCII."""
    offset = lines = 0
    while chunk := stream.read(block):
        found = None if chunk.isascii() else _NON_ASCII.search(chunk)
        if found is None:
            offset += len(chunk)
            lines += chunk.count(b"\n")
            continue
        at = found.start()
        region = chunk[at:] + stream.read(max(0, SAMPLE_BYTES - (len(chunk) - at)))
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(region[:4], final=False)
            utf8 = True
        except UnicodeDecodeError as exc:
            utf8 = exc.start > 0
        return FirstNonAscii(offset + at, lines + chunk.count(b"\n", 0, at) + 1, utf8, region)
    return None


def _legacy(sample: bytes) -> Encoding:
    """The code page of a file that is not UTF: Windows-1252 wins a tie (the most common)."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=list(_LEGACY_CANDIDATES)).best()
    if best is None:
        return Encoding("cp1252", "cp1252 (assumed)")
    if best.encoding != "cp1252":
        # Short samples fit several code pages equally well; prefer the common one on a tie.
        western = from_bytes(sample, cp_isolation=["cp1252"]).best()
        if western is not None and western.chaos <= best.chaos + 0.01:
            best = western
    return Encoding(codecs.lookup(best.encoding).name, f"{best.encoding} (detected)")


@dataclass(frozen=True)
class Dialect:
    """Delimiter, plus whether the first line is Excel's `sep=;` hint (to be skipped)."""

    delimiter: str
    sep_line: bool

    @property
    def label(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def sniff_dialect(text: str) -> Dialect:
    """The delimiter under which the first lines read as the most known header names."""
    lines = text.splitlines()
    first = lines[0].strip().strip('"') if lines else ""
    if first.casefold().startswith("sep=") and len(first) == 5:
        return Dialect(first[4], True)
    candidates = [line for line in lines[:6] if line.strip()]
    best: tuple[tuple[int, int, int], str] | None = None
    for delimiter in DELIMITERS:
        recognized = 0
        widths = []
        for line in candidates[:5]:
            cells = next(csv.reader([line], delimiter=delimiter), [])
            recognized = max(recognized, recognized_columns(cells))
            widths.append(len(cells))
        consistent = sum(1 for w in widths if w == widths[0] and w > 1) if widths else 0
        score = (recognized, consistent, widths[0] if widths else 0)
        if best is None or score > best[0]:
            best = (score, delimiter)
    return Dialect(best[1] if best else ",", False)
