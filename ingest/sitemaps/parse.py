"""Streaming, safe parsing of one sitemap file: urlset, sitemap index, RSS, Atom, text list.

Why the standard library's expat and nothing else: it parses pushed chunks, so a file is never
held whole in memory; it never touches the network; and with the handlers in `xmlwalk.py` it
refuses every entity declaration, which rules out billion-laughs expansion and external entities
(XXE) exactly the way `defusedxml` does, without the dependency. Plain urlsets and indexes with no
DOCTYPE at all go through ElementTree's C tree builder (expat underneath, `xmlfast.py`), which is
about twice as fast; lxml's iterparse was slower than that in this loop (0.52 s vs 0.39 s for
50,000 URLs) and would have been a new runtime dependency. Names arrive namespace-resolved, so
`<sit:urlset xmlns:sit=...>` and a default namespace are the same thing.

Why sniffing instead of trusting names and headers: see `decode.py`; here the same applies to the
format. A leading BOM and whitespace before `<?xml` are skipped (expat would refuse them), HTML
pages and binary garbage are refused with a clear message, text lists are recognized by their
first URL, and XML in an encoding expat does not know natively is transcoded to UTF-8 first.

Leniency is explicit: everything not by the book but unambiguous (the legacy Google namespace, a
missing namespace, a URL as bare text inside `<sitemap>`/`<url>`) is accepted and reported as a
warning, so the audit sees it and the URLs are still counted. CDATA and odd whitespace (also
U+00A0, U+2000) around `<loc>` are accepted silently: they are valid XML and change nothing about
the URL, so there is nothing for an audit to fix.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from ingest.sitemaps.decode import Unpacker
from ingest.sitemaps.entries import EntrySink, UrlEntry
from ingest.sitemaps.errors import (
    CorruptGzip,
    NotASitemap,
    SitemapError,
    TooLarge,
    TruncatedGzip,
    UnknownEncoding,
)
from ingest.sitemaps.xmlfast import XmlFast, fast_path_root
from ingest.sitemaps.xmlplain import PlainScanner
from ingest.sitemaps.xmlwalk import XmlWalker

SNIFF_BYTES = 1024
# Parsers get at most this much at a time: the C tree builder is ~40% faster on 16 KiB pieces
# than on 256 KiB ones (cache locality), measured on a 50,000-URL file.
PARSE_CHUNK = 16 * 1024
XML_SNIFF_BYTES = 4096  # enough to see past any real prolog to the root element
MAX_TEXT_LINE = 64 * 1024

_WHITESPACE = b" \t\r\n\x0b\x0c"
_ENCODING_RE = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_FAST = frozenset({"utf-8", "ascii", "latin-1", "iso8859-1"})
# Encodings expat reads itself; anything else is transcoded to UTF-8 before parsing.
_NATIVE = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "iso8859-1",
                     "ascii"})  # fmt: skip


def describe_start(data: bytes) -> str:
    """A short, printable picture of how a body starts, for error messages."""
    head = data[:40]
    text = head.decode("utf-8", errors="replace")
    if sum(ch.isprintable() or ch in "\r\n\t" for ch in text) < len(text) * 0.9:
        return "binary data " + head[:16].hex(" ")
    return repr(" ".join(text.split())[:40])


def _discard(_piece: bytes) -> None:
    """Target of a rejected stream: bytes are unpacked (to check the gzip) and dropped."""


def _looks_like_html(head: bytes) -> bool:
    start = head[:512].lower()
    if b"<urlset" in start or b"<sitemapindex" in start or b"<rss" in start:
        return False
    return b"<!doctype html" in start or b"<html" in start


class SitemapReader:
    """Push the raw bytes of one file in (any chunking); entries go to `sink` as they complete.

    `feed` and `close` raise a `SitemapError` subclass when the file is damaged or not a
    sitemap; everything sent to the sink before that stays valid (the caller flags the file as
    partial). After an error the reader must not be fed again.
    """

    def __init__(
        self,
        name: str,
        sink: EntrySink,
        *,
        max_bytes: int,
        fast_xml: bool = True,
        plain_scan: bool = True,
    ) -> None:
        self.name = name
        self.sink = sink
        self.fast_xml = fast_xml  # False: always the expat walker (tests compare the two)
        # plain UTF-8 urlsets: the one-pattern-per-<url> scanner in front of the fast reader
        # (False: the fast reader alone; tests compare the two)
        self.plain_scan = plain_scan
        self.unpacker = Unpacker(name, max_bytes)
        self.kind: str | None = None
        self._head = b""
        self._target: Callable[[bytes], None] | None = None
        self._finish: Callable[[], None] | None = None
        self._rejected: NotASitemap | None = None

    # -- public -------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        try:
            for piece in self.unpacker.feed(data):
                self._pieces(piece)
        except (CorruptGzip, TruncatedGzip, TooLarge) as exc:
            raise self._gzip_failure(exc) from None

    def close(self) -> None:
        try:
            for piece in self.unpacker.close():
                self._pieces(piece)
        except (CorruptGzip, TruncatedGzip, TooLarge) as exc:
            raise self._gzip_failure(exc) from None
        if self._rejected is not None:
            raise self._rejected
        if self._target is None:
            self._decide(final=True)
        if self._finish is not None:
            self._finish()
        if self.unpacker.trailing_garbage:
            self.sink.warn(
                "trailing_garbage",
                f"{self.unpacker.trailing_garbage:,} bytes after the gzip stream were ignored",
            )

    def _gzip_failure(self, exc: SitemapError) -> SitemapError:
        """A damaged gzip is the headline even when its content was no sitemap either."""
        rejected = self._rejected
        if rejected is None:
            return exc
        if isinstance(exc, TooLarge):
            return rejected
        return type(exc)(self.name, f"{exc.detail}; its content is not a sitemap either "
                         f"({rejected.detail})")  # fmt: skip

    @property
    def bytes(self) -> int:
        return self.unpacker.bytes

    @property
    def compressed_bytes(self) -> int:
        return self.unpacker.compressed_bytes

    @property
    def is_gzip(self) -> bool:
        return self.unpacker.is_gzip

    # -- sniffing -----------------------------------------------------------------------------

    def _pieces(self, piece: bytes) -> None:
        if len(piece) <= PARSE_CHUNK:
            self._payload(piece)
            return
        for start in range(0, len(piece), PARSE_CHUNK):
            self._payload(piece[start : start + PARSE_CHUNK])

    def _payload(self, piece: bytes) -> None:
        try:
            if self._target is not None:
                self._target(piece)
                return
            self._head += piece
            self._decide(final=False)
        except NotASitemap as exc:
            if not self.unpacker.is_gzip:
                raise
            # Keep unpacking (bounded by the cap, nothing parsed) to tell whether the gzip
            # itself is damaged: a truncated download is the more useful diagnosis.
            self._rejected = exc
            self._target = _discard
            self._finish = None

    def _decide(self, *, final: bool) -> None:
        head = self._head
        if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
            self._start_transcoded("utf-16", head)
            return
        stripped = head.removeprefix(codecs.BOM_UTF8).lstrip(_WHITESPACE)
        if not stripped:
            if final:
                raise NotASitemap(self.name, "the file is empty")
            if len(head) > SNIFF_BYTES * 64:
                raise NotASitemap(self.name, "starts with more than 64 KiB of whitespace")
            return
        if len(stripped) < 16 and not final:
            return  # not enough to decide yet
        lowered = stripped[:64].lower()
        if lowered.startswith((b"http://", b"https://")):
            self._start_text(stripped)
        elif stripped.startswith(b"<"):
            if _looks_like_html(stripped):
                raise NotASitemap(self.name, "an HTML page, not a sitemap")
            if len(stripped) < XML_SNIFF_BYTES and not final:
                return  # wait for the XML declaration (the encoding) and the root element
            self._start_xml(stripped)
        else:
            raise NotASitemap(
                self.name, f"not XML and not a URL list: starts with {describe_start(stripped)}"
            )
        self._head = b""

    def _start_xml(self, head: bytes) -> None:
        match = _ENCODING_RE.match(head)
        declared = match.group(1).decode("ascii") if match else "utf-8"
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise UnknownEncoding(
                self.name, f"the XML declaration names an unknown encoding {declared!r}"
            ) from None
        root = fast_path_root(head[:XML_SNIFF_BYTES]) if self.fast_xml else None
        if codec in _FAST and root in ("urlset", "sitemapindex"):
            fast: XmlFast | PlainScanner
            if root == "urlset" and codec == "utf-8" and self.plain_scan:
                fast = PlainScanner(self)
            else:
                fast = XmlFast(self)
            self._target, self._finish = fast.feed, fast.close
            fast.feed(head)
        elif codec in _NATIVE or codec.startswith("utf-16"):
            parser = XmlWalker(self, encoding=None)
            self._target, self._finish = parser.feed, parser.close
            parser.feed(head)
        else:
            self._start_transcoded(codec, head)

    def _start_transcoded(self, codec: str, head: bytes) -> None:
        """XML (or a URL list) in an encoding expat lacks: decode, re-encode as UTF-8."""
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        inner = _Deferred(self)

        def feed(piece: bytes) -> None:
            inner.feed(decoder.decode(piece).encode("utf-8"))

        def finish() -> None:
            inner.feed(decoder.decode(b"", final=True).encode("utf-8"))
            inner.close()

        self._target, self._finish = feed, finish
        feed(head)

    def _start_text(self, head: bytes) -> None:
        self.kind = "text"
        parser = _TextParser(self)
        self._target, self._finish = parser.feed, parser.close
        parser.feed(head)


class _Deferred:
    """Sniffs transcoded UTF-8 the same way, then parses it with expat told it is UTF-8."""

    def __init__(self, reader: SitemapReader) -> None:
        self._reader = reader
        self._head = b""
        self._feed: Callable[[bytes], None] | None = None
        self._close: Callable[[], None] | None = None

    def feed(self, data: bytes) -> None:
        if self._feed is not None:
            self._feed(data)
            return
        self._head += data
        stripped = self._head.removeprefix(codecs.BOM_UTF8).lstrip(_WHITESPACE)
        if len(stripped) < 16:
            return
        self._begin(stripped)

    def close(self) -> None:
        if self._feed is None:
            stripped = self._head.removeprefix(codecs.BOM_UTF8).lstrip(_WHITESPACE)
            if not stripped:
                raise NotASitemap(self._reader.name, "the file is empty")
            self._begin(stripped)
        assert self._close is not None
        self._close()

    def _begin(self, stripped: bytes) -> None:
        if stripped[:8].lower().startswith((b"http://", b"https://")):
            self._reader.kind = "text"
            text = _TextParser(self._reader)
            self._feed, self._close = text.feed, text.close
        elif stripped.startswith(b"<"):
            xml = XmlWalker(self._reader, encoding="UTF-8")
            self._feed, self._close = xml.feed, xml.close
        else:
            raise NotASitemap(
                self._reader.name,
                f"not XML and not a URL list: starts with {describe_start(stripped)}",
            )
        self._feed(stripped)


class _TextParser:
    """A plain-text sitemap: one absolute URL per line (UTF-8); blank lines are skipped."""

    def __init__(self, reader: SitemapReader) -> None:
        self._reader = reader
        self._sink = reader.sink
        self._rest = b""
        self._bad = 0
        self._first_bad: str | None = None

    def feed(self, data: bytes) -> None:
        data = self._rest + data
        lines = data.splitlines()
        if data and data[-1:] not in (b"\n", b"\r"):
            self._rest = lines.pop() if lines else b""
            if len(self._rest) > MAX_TEXT_LINE:
                raise NotASitemap(self._reader.name, f"a line longer than {MAX_TEXT_LINE:,} bytes")
        else:
            self._rest = b""
        for line in lines:
            self._line(line)

    def close(self) -> None:
        if self._rest:
            self._line(self._rest)
            self._rest = b""
        if self._bad:
            self._sink.warn(
                "not_a_url_line",
                f"{self._bad:,} lines are not absolute http(s) URLs and were skipped "
                f"(first: {self._first_bad!r})",
            )

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff").strip()
        if not text:
            return
        if text[:8].lower().startswith(("http://", "https://")):
            entry = UrlEntry()
            entry.loc = text
            self._sink.url(entry)
        else:
            self._bad += 1
            if self._first_bad is None:
                self._first_bad = text[:80]
