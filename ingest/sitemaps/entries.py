"""What the parser hands on: one `UrlEntry` per `<url>`/item, child sitemaps, warnings.

The parser knows XML, the sink knows URLs and Parquet; this module is the narrow interface
between them, so either side can be tested (and swapped: the row writer, the crawler's seed
collector) without the other.
"""

from __future__ import annotations

from typing import Protocol

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Google's pre-2006 namespace, still served by old generators; accepted with a warning.
LEGACY_NAMESPACES = frozenset(
    {
        "http://www.google.com/schemas/sitemap/0.9",
        "http://www.google.com/schemas/sitemap/0.84",
        "http://www.google.com/schemas/sitemap/0.90",
    }
)
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
VIDEO_NS = "http://www.google.com/schemas/sitemap-video/1.1"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MOBILE_NS = "http://www.google.com/schemas/sitemap-mobile/1.0"
XHTML_NS = "http://www.w3.org/1999/xhtml"
ATOM_NS = "http://www.w3.org/2005/Atom"
EXTENSION_NAMESPACES = frozenset({IMAGE_NS, VIDEO_NS, NEWS_NS, MOBILE_NS, XHTML_NS})

# Per-URL caps on list-valued extensions: counts stay exact, stored values stop here, so one
# hostile <url> with a million images cannot hold a million strings in memory.
MAX_IMAGES_KEPT = 1000
MAX_VIDEOS_KEPT = 100
MAX_ALTERNATES_KEPT = 1000


class Video:
    """One `<video:video>`; fields are the stripped texts (None when absent)."""

    __slots__ = (
        "content_loc",
        "duration",
        "player_loc",
        "publication_date",
        "thumbnail_loc",
        "title",
    )

    def __init__(self) -> None:
        self.title: str | None = None
        self.content_loc: str | None = None
        self.player_loc: str | None = None
        self.thumbnail_loc: str | None = None
        self.duration: str | None = None
        self.publication_date: str | None = None


class News:
    """One `<news:news>`."""

    __slots__ = ("language", "publication_date", "publication_name", "title")

    def __init__(self) -> None:
        self.publication_date: str | None = None
        self.title: str | None = None
        self.publication_name: str | None = None
        self.language: str | None = None


class UrlEntry:
    """One `<url>` of a urlset, one line of a text sitemap, one RSS item or Atom entry.

    No `__slots__` on purpose: the defaults live on the class, so creating an entry and setting
    the two or three fields a typical `<url>` has costs far less than initializing all of them
    (this object is made 50,000 times per file).
    """

    loc: str | None = None
    loc_is_bare = False  # taken from text directly inside the entry (no <loc>)
    lastmod: str | None = None
    changefreq: str | None = None
    priority: str | None = None
    images: list[str] | None = None
    n_images = 0
    videos: list[Video] | None = None
    n_videos = 0
    news: News | None = None
    alternates: list[tuple[str, str]] | None = None  # (hreflang, href)
    n_alternates = 0
    mobile = False
    is_feed = False  # RSS/Atom: dates are RFC 822 or Atom datetimes
    warnings: list[str] | None = None

    def warn(self, code: str) -> None:
        if self.warnings is None:
            self.warnings = [code]
        elif code not in self.warnings:
            self.warnings.append(code)


class EntrySink(Protocol):
    """Receives what a parser finds, in file order."""

    def url(self, entry: UrlEntry) -> None: ...

    def child(self, loc: str, lastmod: str | None) -> None: ...

    def warn(self, code: str, message: str) -> None: ...
