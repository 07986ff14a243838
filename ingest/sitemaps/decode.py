"""Raw bytes in, sitemap bytes out: gzip by magic bytes, streamed, under a size cap.

Why never by name or header: `.xml.gz` files that are plain XML, gzip served as `text/xml` or
`application/octet-stream`, and double gzip (a `.gz` file sent with `Content-Encoding: gzip`) are
all common. So every stream is sniffed: `1f 8b` means gzip, whatever anyone claims, up to two
nested layers.

Why streamed with bounded output: a 28 KB gzip can unpack to gigabytes. Each decompress call
produces at most `OUT_CHUNK` bytes and the total is checked against the cap before the next
call, so memory stays at a few hundred KiB whatever the ratio, and a bomb is refused with a
message naming the file.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from ingest.sitemaps.errors import CorruptGzip, TooLarge, TruncatedGzip

GZIP_MAGIC = b"\x1f\x8b"
OUT_CHUNK = 64 * 1024
MAX_GZIP_LAYERS = 2
MIB = 1024 * 1024
# Bytes tolerated after the end of the gzip stream (a CMS appending an HTML comment is common).
# They unpack to nothing, so the size cap never sees them: without this limit a server could
# keep a download going forever after a small valid stream.
MAX_TRAILING_GARBAGE = 64 * 1024


def _mib(n: int) -> str:
    return f"{n / MIB:,.0f} MiB" if n >= MIB else f"{n:,} bytes"


class _Gunzip:
    """Streaming gunzip of one or more concatenated gzip members (RFC 1952 allows several)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._d = zlib.decompressobj(wbits=31)
        self._between = b""  # start of what follows a finished member (may be a new member)
        self._held = b""
        self._ignoring = False
        self.members = 1
        self.trailing_garbage = 0
        self.out_bytes = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        # The last 8 bytes wait for the next chunk: if they are the trailer and its CRC is
        # wrong, zlib raises inside the call that would also return the last output, so
        # without the hold-back the URLs of the final block would be lost with the error.
        data = self._held + data
        self._held, data = data[-8:], data[:-8]
        yield from self._feed(data)

    def _feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._ignoring:
                self._add_trailing(len(data))
                return
            if self._d.eof:
                data = self._between + data
                self._between = b""
                if len(data) < 2:
                    self._between = data
                    return
                if data[:2] != GZIP_MAGIC:
                    # e.g. an HTML comment a CMS appended after the gzip stream
                    self._ignoring = True
                    continue
                self._d = zlib.decompressobj(wbits=31)
                self.members += 1
            yield from self._inflate(data)
            data = self._d.unused_data if self._d.eof else self._d.unconsumed_tail

    def close(self) -> Iterator[bytes]:
        """Drain what zlib still holds (output is capped per call), then insist on the trailer."""
        held, self._held = self._held, b""
        yield from self._feed(held)
        if not self._d.eof and not self._ignoring:
            yield from self._inflate(b"")
        if self._between and not self._ignoring:
            self._add_trailing(len(self._between))
        if not self._d.eof and not self._ignoring:
            raise TruncatedGzip(
                self._name,
                f"gzip stream ends early (truncated file or download) after "
                f"{self.out_bytes:,} unpacked bytes",
            )

    def _add_trailing(self, n: int) -> None:
        self.trailing_garbage += n
        if self.trailing_garbage > MAX_TRAILING_GARBAGE:
            raise CorruptGzip(
                self._name,
                f"more than {MAX_TRAILING_GARBAGE // 1024} KiB of data after the end of the "
                f"gzip stream ({self.trailing_garbage:,} bytes so far, after "
                f"{self.out_bytes:,} unpacked bytes); not read further",
            )

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._d.decompress(data, OUT_CHUNK)
            except zlib.error as exc:
                raise CorruptGzip(
                    self._name,
                    f"gzip data is corrupt ({exc}) after {self.out_bytes:,} unpacked bytes",
                ) from None
            if out:
                self.out_bytes += len(out)
                yield out
            if len(out) < OUT_CHUNK or self._d.eof:
                return
            data = self._d.unconsumed_tail
            if data:
                return  # the caller's loop feeds the rest


class _Layer:
    """Passes bytes through, or, when they start with the gzip magic, gunzips them."""

    def __init__(self, name: str, level: int) -> None:
        self._name = name
        self._level = level
        self._head = b""
        self._decided = False
        self.gunzip: _Gunzip | None = None
        self.inner: _Layer | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._decided:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            self._decided = True
            if data[:2] == GZIP_MAGIC and self._level < MAX_GZIP_LAYERS:
                self.gunzip = _Gunzip(self._name)
                self.inner = _Layer(self._name, self._level + 1)
        if self.gunzip is None or self.inner is None:
            if data:
                yield data
            return
        for out in self.gunzip.feed(data):
            yield from self.inner.feed(out)

    def close(self) -> Iterator[bytes]:
        if not self._decided:
            if self._head:
                yield self._head
            return
        if self.gunzip is not None and self.inner is not None:
            for out in self.gunzip.close():
                yield from self.inner.feed(out)
            yield from self.inner.close()

    @property
    def gzip_layers(self) -> int:
        return 0 if self.inner is None else 1 + self.inner.gzip_layers

    @property
    def trailing_garbage(self) -> int:
        own = self.gunzip.trailing_garbage if self.gunzip is not None else 0
        return own + (self.inner.trailing_garbage if self.inner is not None else 0)


class Unpacker:
    """The raw bytes of one file in, its payload out, counted and capped.

    `feed` and `close` are generators of payload pieces (each at most `OUT_CHUNK` bytes when
    decompressing); they raise TooLarge once `max_bytes` would be exceeded, after yielding the
    bytes up to the cap so that the URLs in them are kept.
    """

    def __init__(self, name: str, max_bytes: int) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.compressed_bytes = 0
        self.bytes = 0
        self._top = _Layer(name, 0)

    @property
    def is_gzip(self) -> bool:
        return self._top.gzip_layers > 0

    @property
    def gzip_layers(self) -> int:
        return self._top.gzip_layers

    @property
    def trailing_garbage(self) -> int:
        """Bytes after the last gzip member that were not gzip (ignored)."""
        return self._top.trailing_garbage

    def feed(self, data: bytes) -> Iterator[bytes]:
        self.compressed_bytes += len(data)
        for piece in self._top.feed(data):
            yield from self._count(piece)

    def close(self) -> Iterator[bytes]:
        for piece in self._top.close():
            yield from self._count(piece)

    def _count(self, piece: bytes) -> Iterator[bytes]:
        room = self.max_bytes - self.bytes
        if len(piece) > room:
            if room > 0:
                self.bytes += room
                yield piece[:room]
            raise TooLarge(
                self.name,
                f"larger than the {_mib(self.max_bytes)} cap once unpacked "
                f"(read {self.compressed_bytes:,} bytes, "
                f"{'gzip' if self.is_gzip else 'uncompressed'}); "
                "a decompression bomb or an absurd file: refused",
            )
        self.bytes += len(piece)
        yield piece
