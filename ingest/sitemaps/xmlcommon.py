"""What both XML readers share: element vocabulary, root checks, warning and error wording.

There are two readers of sitemap XML (`xmlwalk`: expat events for everything, the reference;
`xmlfast`: ElementTree's C tree builder for plain urlsets and indexes). Everything that decides
what a document *means* lives here, so the two cannot drift apart; a test runs every fixture
through both and compares the results.
"""

from __future__ import annotations

from xml.parsers import expat

from ingest.sitemaps.entries import LEGACY_NAMESPACES, SITEMAP_NS, EntrySink
from ingest.sitemaps.errors import NotASitemap, TooLarge, XmlSyntaxError

# sitemaps.org caps <loc> at 2,048 characters; eight times that is certainly not a real value.
MAX_FIELD_CHARS = 16 * 1024
ROOT_KINDS = {"urlset": "urlset", "sitemapindex": "index", "rss": "rss", "RDF": "rss",
              "feed": "atom"}  # fmt: skip
URL_FIELDS = frozenset({"loc", "lastmod", "changefreq", "priority"})
FEED_FIELDS = frozenset({"link", "guid", "pubDate", "updated", "published", "date"})
VIDEO_FIELDS = frozenset(
    {"title", "content_loc", "player_loc", "thumbnail_loc", "duration", "publication_date"}
)
NEWS_FIELDS = frozenset({"publication_date", "title"})
PUBLICATION_FIELDS = frozenset({"name", "language"})
ENTRY_KINDS = {"url": "url", "sitemap": "child"}
# Bytes a parser may take in without a single entry ending. Expat buffers an unfinished token
# (a comment, a start tag, a text run in the tree builder) whole, so without this guard one
# hostile 90 MB comment would sit in memory up to the size cap. Real entries are kilobytes.
MAX_ENTRY_BYTES = 8 * 1024 * 1024


class EntryGuard:
    """Counts payload bytes since the last finished entry; refuses past MAX_ENTRY_BYTES."""

    __slots__ = ("_name", "_pending", "ended")

    def __init__(self, name: str) -> None:
        self._name = name
        self._pending = 0
        self.ended = False  # set by the parser whenever an entry finishes

    def fed(self, n_bytes: int) -> None:
        if self.ended:
            self.ended = False
            self._pending = 0
            return
        self._pending += n_bytes
        if self._pending > MAX_ENTRY_BYTES:
            raise TooLarge(
                self._name,
                f"no entry ends within {MAX_ENTRY_BYTES // (1024 * 1024)} MiB "
                "(a giant comment, tag or value); refused",
            )


COUNT_MESSAGES = {
    "missing_loc": "entries without <loc> (skipped)",
    "bare_url": "entries with the URL as bare text instead of in <loc> (accepted)",
    "multiple_loc": "entries with more than one <loc> (the first is used)",
    "field_too_long": f"values longer than {MAX_FIELD_CHARS:,} characters (cut)",
    "mixed_entries": "entries of the other sitemap kind (index vs urlset) mixed in",
}


def flush_counts(counts: dict[str, int], sink: EntrySink) -> None:
    """Report per-entry problems once per file, with their number."""
    for code, n in counts.items():
        sink.warn(code, f"{n:,} {COUNT_MESSAGES.get(code, code)}")
    counts.clear()


def check_root(name: str, ns: str, local: str, sink: EntrySink) -> str:
    """The document kind of a root element; warns about namespaces, refuses non-sitemaps."""
    kind = ROOT_KINDS.get(local)
    if kind is None:
        if local.lower() == "html":
            raise NotASitemap(name, "an (X)HTML page, not a sitemap")
        raise NotASitemap(name, f"unknown root element <{local}> (namespace {ns!r})")
    if kind in ("urlset", "index"):
        if ns in LEGACY_NAMESPACES:
            sink.warn(
                "legacy_namespace",
                f"<{local}> uses the legacy Google namespace {ns} instead of {SITEMAP_NS}",
            )
        elif not ns:
            sink.warn("missing_namespace", f"<{local}> has no namespace")
        elif ns != SITEMAP_NS:
            sink.warn("unexpected_namespace", f"<{local}> uses namespace {ns}")
    return kind


def syntax_error(name: str, code: int | None, line: int, column: int) -> XmlSyntaxError:
    message = expat.errors.messages.get(code, f"error {code}") if code else "syntax error"
    return XmlSyntaxError(
        name, f"XML is not well-formed: {message} at line {line}, column {column}"
    )
