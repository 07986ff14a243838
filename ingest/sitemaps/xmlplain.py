"""The plain-urlset scanner: one regular expression per `<url>` for the common generated shape.

Why a third reader: even ElementTree's C builder hands Python ten events per plain `<url>`
(start and end of url, loc, lastmod, changefreq, priority), and reading those events was more
than half of all parsing time on a 50,000-URL file. Generated sitemaps are nearly always the
same shape, `<url><loc>..</loc><lastmod>..</lastmod><changefreq>..</changefreq>
<priority>..</priority></url>` with any of the last three left out, so one compiled pattern
matches a whole entry and hands its four values straight to the sink's `simple_url`.

Why it is exactly as strict as expat: the scanner never decides anything it is not sure of.
It runs only on UTF-8 urlsets without a DOCTYPE whose root start tag is plain `<urlset ...>`
(the XML declaration, prolog and root tag go through `xmlfast.XmlFast` first, so root checks
and warnings are the ElementTree path's). It then consumes entries only while they match back to
back: the pattern admits nothing but whitespace and well-formed comments between entries, no
attributes, no markup inside values, only XML characters in values (no `<`, `>`, `\\r`, control
characters) and only the five predefined entity references; the bytes must decode as strict UTF-8.
At the first thing it does not recognize (another field order, an extension, a CDATA section, a
numeric character reference, an over-long value, `</urlset>`, damage) it hands the rest of the
file, from the start of that entry, to the ElementTree reader, which is then positioned exactly
where it would have been had it read the skipped entries itself (depth 1, inside the root), so
everything after the handover (warnings, errors, the end of the document) is its normal work.
Syntax error positions are shifted by the lines and columns the scanner consumed. A test holds
scanner and ElementTree reader to identical entries, warnings and errors on every fixture and on
generated files with odd values.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ingest.sitemaps.entries import EXTENSION_NAMESPACES
from ingest.sitemaps.xmlcommon import MAX_FIELD_CHARS
from ingest.sitemaps.xmlfast import XmlFast, _split, prolog_end

if TYPE_CHECKING:
    from ingest.sitemaps.parse import SitemapReader

# Bytes the scanner holds without a complete `</url>` before it hands over (ElementTree's
# EntryGuard then bounds the rest); real entries are a few hundred bytes.
MAX_PENDING = 256 * 1024

_NOT_CHAR = r"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff"  # not XML 1.0 characters
_VALUE = rf"([^<>\r{_NOT_CHAR}]*)"  # no markup, no CR (expat rewrites it), no ']]>'
_WS = r"[ \t\n\r]*"
_COMMENT = rf"<!--(?:[^\-{_NOT_CHAR}]|-[^\-{_NOT_CHAR}])*-->"
_SEP = rf"(?:[ \t\n\r]|{_COMMENT})*"
_ENTRY = re.compile(
    rf"{_SEP}<url>{_WS}<loc>{_VALUE}</loc>{_WS}"
    rf"(?:<lastmod>{_VALUE}</lastmod>{_WS})?"
    rf"(?:<changefreq>{_VALUE}</changefreq>{_WS})?"
    rf"(?:<priority>{_VALUE}</priority>{_WS})?"
    r"</url>"
)
# The common case, strictly: no comments, values without whitespace, '&' or non-characters,
# none empty or longer than MAX_FIELD_CHARS. `split` on it gives every entry's groups and the
# text between entries in one call; any text between entries sends the rest of the chunk to
# the one-entry-at-a-time loop with `_ENTRY`.
_STRICT_VALUE = rf"([^<>&\s{_NOT_CHAR}]{{1,{MAX_FIELD_CHARS}}})"
_STRICT = re.compile(
    rf"({_WS}<url>{_WS}<loc>{_STRICT_VALUE}</loc>{_WS}"
    rf"(?:<lastmod>{_STRICT_VALUE}</lastmod>{_WS})?"
    rf"(?:<changefreq>{_STRICT_VALUE}</changefreq>{_WS})?"
    rf"(?:<priority>{_STRICT_VALUE}</priority>{_WS})?"
    r"</url>)"
)
_ROOT_TAG = re.compile(
    rb"""<urlset(?:[ \t\r\n]+[A-Za-z_][\w.:\-]*[ \t\r\n]*=[ \t\r\n]*(?:"[^"<&]*"|'[^'<&]*'))*"""
    rb"[ \t\r\n]*>"
)
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos);")


def _unescape(value: str) -> str | None:
    """`value` with the predefined entities replaced; None when another `&` is in it."""
    if "&" in _ENTITY.sub("", value):
        return None
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], value)


def _breaks(text: str) -> int:
    """Line breaks as expat counts them: LF, CR LF and a lone CR are one each."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


class PlainScanner:
    """Same contract as `XmlFast` (feed/close); an `XmlFast` does everything it does not."""

    def __init__(self, reader: SitemapReader) -> None:
        self._fast = XmlFast(reader)
        self._simple = getattr(reader.sink, "simple_url", None)
        self._many = getattr(reader.sink, "simple_urls", None) or self._one_by_one
        self._scanning = False  # True between the root start tag and the handover
        self._started = False
        self._buf = b""
        self._head_end = (1, 0)  # (line, column) after the root start tag
        self._lines = 0  # line breaks consumed by the scanner
        self._column = 0  # column after what the scanner consumed

    # -- XmlFast contract ---------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if self._scanning:
            self._scan(data)
        elif self._started:
            self._fast.feed(data)
        else:
            self._start(data)

    def close(self) -> None:
        if self._scanning:
            self._handover("", self._buf)
        self._fast.close()

    # -- internals ----------------------------------------------------------------------------

    def _one_by_one(self, entries: list[tuple[str, str | None, str | None, str | None]]) -> None:
        simple = self._simple
        assert simple is not None
        for loc, lastmod, changefreq, priority in entries:  # "" stands for absent
            simple(loc, lastmod or None, changefreq or None, priority or None)

    def _start(self, data: bytes) -> None:
        """The prolog and root tag go to XmlFast; the scanner takes over when they are plain."""
        self._started = True
        start = prolog_end(data)
        match = _ROOT_TAG.match(data, start) if start is not None else None
        if match is None or self._simple is None:
            self._fast.feed(data)
            return
        head, rest = data[: match.end()], data[match.end() :]
        self._fast.feed(head)
        root = self._fast.root
        if root is None or self._fast.root_kind != "urlset":
            self._fast.feed(rest)
            return
        if _split(root.tag)[0] in EXTENSION_NAMESPACES:
            self._fast.feed(rest)  # `<loc>` would not be a sitemap field there
            return
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            self._fast.feed(rest)
            return
        last = max(text.rfind("\n"), text.rfind("\r"))
        self._head_end = (1 + _breaks(text), len(text) - last - 1)
        self._column = self._head_end[1]
        self._scanning = True
        self._scan(rest)

    def _scan(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        cut = buf.rfind(b"</url>")
        if cut < 0:
            self._buf = buf
            if len(buf) > MAX_PENDING:
                self._handover("", buf)
            return
        cut += 6
        try:
            text = buf[:cut].decode("utf-8")
        except UnicodeDecodeError:
            self._handover("", buf)
            return
        parts = _STRICT.split(text)
        gaps = parts[0::6]
        if not any(gaps):
            self._many(list(zip(parts[2::6], parts[3::6], parts[4::6], parts[5::6], strict=True)))
            pos = len(text)
        else:
            k = next(i for i, gap in enumerate(gaps) if gap)
            if k:
                self._many(list(zip(parts[2 : 6 * k : 6], parts[3 : 6 * k : 6],
                                    parts[4 : 6 * k : 6], parts[5 : 6 * k : 6], strict=True)))  # fmt: skip
            pos = self._careful(text, sum(map(len, parts[1 : 6 * k : 6])))
        if pos < len(text):
            self._handover(text[:pos], text[pos:].encode("utf-8") + buf[cut:])
            return
        self._consumed(text)
        self._buf = buf[cut:]
        if len(self._buf) > MAX_PENDING:
            self._handover("", self._buf)

    def _careful(self, text: str, start: int) -> int:
        """Entries of `text[start:]` one by one, as XmlFast reads them; where to hand over."""
        found: list[tuple[str, str, str, str]] = []
        add = found.append
        pos = start
        for match in _ENTRY.finditer(text, start):
            if match.start() != pos:
                break
            values: list[str | None] = list(match.groups())
            if "&" in match.group(0):
                values = [None if v is None else _unescape(v) for v in values]
                if any(v is None for v, raw in zip(values, match.groups(), strict=True)
                       if raw is not None):  # fmt: skip
                    break  # a character reference or a stray '&': XmlFast decides
            loc, lastmod, changefreq, priority = (None if v is None else v.strip() for v in values)
            if not loc or any(len(v) > MAX_FIELD_CHARS for v in (loc, lastmod, changefreq,
                                                                  priority) if v):  # fmt: skip
                break  # XmlFast counts missing_loc / bare_url / field_too_long
            if "" in (lastmod, changefreq, priority):
                # an empty value is no absent one (batches use "" for absent): on its own
                self._many(found)
                found = []
                add = found.append
                assert self._simple is not None
                self._simple(loc, lastmod, changefreq, priority)
            else:
                add((loc, lastmod or "", changefreq or "", priority or ""))
            pos = match.end()
        if found:
            self._many(found)
        return pos

    def _consumed(self, text: str) -> None:
        breaks = _breaks(text)
        if breaks:
            self._lines += breaks
            self._column = len(text) - max(text.rfind("\n"), text.rfind("\r")) - 1
        else:
            self._column += len(text)

    def _handover(self, consumed: str, rest: bytes) -> None:
        """Give the rest of the file to XmlFast, which sits inside the root, between entries."""
        self._consumed(consumed)
        self._scanning = False
        self._buf = b""
        line, column = self._head_end
        self._fast.position_shift = (line, column, self._lines, self._column)
        if rest:
            self._fast.feed(rest)
