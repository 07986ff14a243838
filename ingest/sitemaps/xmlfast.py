"""The fast reader for plain urlsets and sitemap indexes: ElementTree's C tree builder.

Why a second reader: `xmlwalk` calls Python for every start tag, end tag and text node, about
fifteen calls per `<url>`; here the C builder makes each `<url>` a small element tree and Python
looks at it once, which halves parsing time on big files. The two agree on every fixture (a test
holds them to it) because all meaning comes from `xmlcommon`.

Why it is still safe: it is used only when the prolog holds no `<!DOCTYPE>` at all (checked on the
bytes before the root element), so no entity can be declared and none can be expanded; references
to undeclared entities are errors, and ElementTree never loads external resources. Anything else
(a DOCTYPE, RSS, Atom, a transcoded encoding, a prolog longer than the sniffed head) goes to
`xmlwalk`. Memory: finished entries are cleared off the root after every chunk, and an entry that
grows past `xmlcommon.MAX_ENTRY_BYTES` without closing is refused, so a hostile single element cannot make
the C builder hold the whole file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from ingest.sitemaps.entries import (
    EXTENSION_NAMESPACES,
    MAX_ALTERNATES_KEPT,
    MAX_IMAGES_KEPT,
    MAX_VIDEOS_KEPT,
    News,
    UrlEntry,
    Video,
)
from ingest.sitemaps.errors import NotASitemap, TooLarge
from ingest.sitemaps.xmlcommon import (
    ENTRY_KINDS,
    MAX_FIELD_CHARS,
    NEWS_FIELDS,
    PUBLICATION_FIELDS,
    URL_FIELDS,
    VIDEO_FIELDS,
    EntryGuard,
    check_root,
    flush_counts,
    syntax_error,
)

if TYPE_CHECKING:
    from ingest.sitemaps.parse import SitemapReader

_PLAIN = frozenset({"loc", "lastmod", "changefreq", "priority"})

_ROOT_NAME = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)[\s/>]")


def fast_path_root(head: bytes) -> str | None:
    """The root element's local name if `head` proves the prolog free of any DOCTYPE.

    Only the XML declaration, processing instructions, comments and whitespace may precede the
    root; anything else, or a prolog that does not end inside `head`, answers None.
    """
    i = prolog_end(head)
    if i is None:
        return None
    match = _ROOT_NAME.match(head, i)
    return match.group(1).decode("ascii") if match else None


def prolog_end(head: bytes) -> int | None:
    """Where the root element's `<` is, if `head` proves the prolog free of any DOCTYPE."""
    i, n = 0, len(head)
    while i < n:
        ch = head[i : i + 1]
        if ch in (b" ", b"\t", b"\r", b"\n"):
            i += 1
        elif head.startswith(b"<?", i):
            end = head.find(b"?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif head.startswith(b"<!--", i):
            end = head.find(b"-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif head.startswith(b"<!", i):
            return None  # DOCTYPE (or garbage): the walker, which refuses entity declarations
        elif ch == b"<":
            return i
        else:
            return None
    return None


def _split(tag: str) -> tuple[str, str]:
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _text(element: ElementTree.Element) -> str:
    """All text inside an element, as the walker collects it (nested text included)."""
    if len(element):
        return "".join(element.itertext())
    return element.text or ""


class XmlFast:
    """Same contract as `XmlWalker` (feed/close, entries to the reader's sink)."""

    def __init__(self, reader: SitemapReader) -> None:
        self._reader = reader
        self._name = reader.name
        self._sink = reader.sink
        self._parser = ElementTree.XMLPullParser(events=("start", "end"))
        self._root: ElementTree.Element | None = None
        self._root_kind: str | None = None
        self._kinds: dict[str, str | None] = {}  # tag -> entry kind ("url"/"child") or None
        self._fields: dict[str, tuple[str, str]] = {}  # tag -> (namespace, local)
        self._codes: dict[str, str] = {}  # tag of a child of <url> -> what it is
        # plain <url>s go straight to the sink's fast path when it has one (UrlRows does)
        self._simple = getattr(reader.sink, "simple_url", None)
        self._counts: dict[str, int] = {}
        self._guard = EntryGuard(self._name)
        # (line, column) where the plain scanner (xmlplain) handed over, and how many lines and
        # which column it had consumed by then: syntax error positions are shifted by them
        self.position_shift: tuple[int, int, int, int] | None = None

    @property
    def root(self) -> ElementTree.Element | None:
        return self._root

    @property
    def root_kind(self) -> str | None:
        return self._root_kind

    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
            ended = self._drain()  # parse errors surface here, after the events before them
        except ElementTree.ParseError as exc:
            raise self._syntax_error(exc) from None
        self._guard.ended = ended
        try:
            self._guard.fed(len(data))
        except TooLarge:
            flush_counts(self._counts, self._sink)
            raise

    def close(self) -> None:
        try:
            self._drain()
            self._parser.close()
            self._drain()
        except ElementTree.ParseError as exc:
            raise self._syntax_error(exc) from None
        flush_counts(self._counts, self._sink)
        if self._root_kind is None:
            raise NotASitemap(self._name, "no root element")

    def _syntax_error(self, exc: ElementTree.ParseError) -> Exception:
        flush_counts(self._counts, self._sink)
        line, column = getattr(exc, "position", (0, 0))
        if self.position_shift is not None and line:
            at_line, at_column, lines, after_column = self.position_shift
            if line == at_line:
                column += after_column - at_column
            line += lines
        return syntax_error(self._name, getattr(exc, "code", None), line, column)

    # -- events -------------------------------------------------------------------------------

    def _drain(self) -> bool:
        """Handle queued events; True when an entry ended (the builder's memory was freed)."""
        ended = False
        kinds = self._kinds
        for event, element in self._parser.read_events():
            if event == "end":
                tag = element.tag
                kind = kinds.get(tag, "")
                if kind == "":
                    kind = kinds[tag] = ENTRY_KINDS.get(_split(tag)[1])
                if kind is None:
                    continue
                if (kind == "child") != (self._root_kind == "index"):
                    self._counts["mixed_entries"] = self._counts.get("mixed_entries", 0) + 1
                if kind == "url":
                    self._url(element)
                else:
                    self._child(element)
                element.clear()
                ended = True
            elif self._root is None:
                self._root = element
                ns, local = _split(element.tag)
                self._root_kind = self._reader.kind = check_root(self._name, ns, local, self._sink)
        if self._root is not None:
            self._root.clear()  # finished entries; an open one lives on in the builder
        return ended

    def _field(self, tag: str) -> tuple[str, str]:
        parts = self._fields.get(tag)
        if parts is None:
            parts = self._fields[tag] = _split(tag)
        return parts

    def _code(self, tag: str) -> str:
        """What a direct child of `<url>` is: a field name, an extension, or "" (ignored)."""
        ns, local = self._field(tag)
        if local in URL_FIELDS:
            code = "" if ns in EXTENSION_NAMESPACES else local
        elif local in ("image", "video", "news", "link", "mobile"):
            code = local
        else:
            code = ""
        self._codes[tag] = code
        return code

    def _value(self, element: ElementTree.Element) -> str:
        text = element.text
        if len(element):
            text = "".join(element.itertext())
        if not text:
            return ""
        value = text.strip()
        if len(value) > MAX_FIELD_CHARS:
            self._count("field_too_long")
            value = value[:MAX_FIELD_CHARS]
        return value

    def _count(self, code: str) -> None:
        self._counts[code] = self._counts.get(code, 0) + 1

    def _bare(self, element: ElementTree.Element) -> str:
        """Text directly inside an entry (a URL written without <loc>), as the walker sees it."""
        pieces = [element.text or ""] + [child.tail or "" for child in element]
        return "".join(p for p in pieces if not p.isspace()).strip()

    def _child(self, element: ElementTree.Element) -> None:
        loc: str | None = None
        lastmod: str | None = None
        codes = self._codes
        for child in element:
            tag = child.tag
            code = codes.get(tag)
            if code is None:
                code = self._code(tag)
            if code == "loc":
                if loc is None:
                    loc = self._value(child)
                else:
                    self._count("multiple_loc")
            elif code == "lastmod":
                lastmod = self._value(child)
        if not loc:
            bare = self._bare(element)
            if bare:
                loc = bare
                self._count("bare_url")
        if loc:
            self._sink.child(loc, lastmod)
        else:
            self._count("missing_loc")

    def _url(self, element: ElementTree.Element) -> None:
        codes = self._codes
        loc = lastmod = changefreq = priority = None
        extra_locs = 0
        for child in element:
            tag = child.tag
            code = codes.get(tag)
            if code is None:
                code = self._code(tag)
            if not code:
                continue
            if code not in _PLAIN or len(child):  # an extension, or markup inside a value
                self._url_entry(element)
                return
            text = child.text
            value = text.strip() if text else ""
            if len(value) > MAX_FIELD_CHARS:
                self._url_entry(element)
                return
            if code == "loc":
                if loc is None:
                    loc = value
                else:
                    extra_locs += 1
            elif code == "lastmod":
                lastmod = value
            elif code == "changefreq":
                changefreq = value
            else:
                priority = value
        if not loc or self._simple is None:
            self._url_entry(element)
            return
        if extra_locs:
            self._count("multiple_loc")
        self._simple(loc, lastmod, changefreq, priority)

    def _url_entry(self, element: ElementTree.Element) -> None:
        """A <url> with extensions (or without <loc>) as a full UrlEntry."""
        entry = UrlEntry()
        codes = self._codes
        for child in element:
            tag = child.tag
            code = codes.get(tag)
            if code is None:
                code = self._code(tag)
            if code == "loc":
                if entry.loc is None:
                    entry.loc = self._value(child)
                else:
                    self._count("multiple_loc")
            elif code == "lastmod":
                entry.lastmod = self._value(child)
            elif code == "changefreq":
                entry.changefreq = self._value(child)
            elif code == "priority":
                entry.priority = self._value(child)
            elif code == "image":
                self._image(entry, child)
            elif code == "video":
                self._video(entry, child)
            elif code == "news":
                self._news(entry, child)
            elif code == "link":
                rel = (child.get("rel") or "").strip().lower()
                hreflang, href = child.get("hreflang"), child.get("href")
                if rel == "alternate" and hreflang is not None and href is not None:
                    entry.n_alternates += 1
                    if entry.n_alternates <= MAX_ALTERNATES_KEPT:
                        if entry.alternates is None:
                            entry.alternates = []
                        entry.alternates.append((hreflang.strip(), href.strip()))
            elif code == "mobile":
                entry.mobile = True
        if not entry.loc:
            bare = self._bare(element)
            if bare:
                entry.loc = bare
                entry.loc_is_bare = True
                self._count("bare_url")
        if entry.loc:
            self._sink.url(entry)
        else:
            self._count("missing_loc")

    def _image(self, entry: UrlEntry, element: ElementTree.Element) -> None:
        entry.n_images += 1
        for child in element:
            if self._field(child.tag)[1] == "loc":
                value = self._value(child)
                if value and entry.n_images <= MAX_IMAGES_KEPT:
                    if entry.images is None:
                        entry.images = []
                    entry.images.append(value)

    def _video(self, entry: UrlEntry, element: ElementTree.Element) -> None:
        entry.n_videos += 1
        video = Video()
        for child in element:
            local = self._field(child.tag)[1]
            if local in VIDEO_FIELDS:
                setattr(video, local, self._value(child))
        if entry.n_videos <= MAX_VIDEOS_KEPT:
            if entry.videos is None:
                entry.videos = []
            entry.videos.append(video)

    def _news(self, entry: UrlEntry, element: ElementTree.Element) -> None:
        news = entry.news = entry.news or News()
        for child in element:
            local = self._field(child.tag)[1]
            if local in NEWS_FIELDS:
                setattr(news, local, self._value(child))
            elif local == "publication":
                for item in child:
                    name = self._field(item.tag)[1]
                    if name in PUBLICATION_FIELDS:
                        value = self._value(item) or None
                        if name == "name":
                            news.publication_name = value
                        else:
                            news.language = value
