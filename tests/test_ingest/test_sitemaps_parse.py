"""Sitemap parsing: every fixture with counts and extension values checked by hand, every
malformed input with its error or warning, and the two XML readers held to the same answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingest.sitemaps.entries import UrlEntry
from ingest.sitemaps.errors import SitemapError
from ingest.sitemaps.parse import SitemapReader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sitemaps"
MIB = 1024 * 1024


@dataclass
class Parsed:
    kind: str | None = None
    urls: list[UrlEntry] = field(default_factory=list)
    children: list[tuple[str, str | None]] = field(default_factory=list)
    warnings: dict[str, str] = field(default_factory=dict)
    error: SitemapError | None = None
    bytes: int = 0
    is_gzip: bool = False

    def url(self, entry: UrlEntry) -> None:
        self.urls.append(entry)

    def child(self, loc: str, lastmod: str | None) -> None:
        self.children.append((loc, lastmod))

    def simple_url(
        self, loc: str, lastmod: str | None, changefreq: str | None, priority: str | None
    ) -> None:
        """The fast reader's shortcut for plain <url>s (UrlRows has it too)."""
        entry = UrlEntry()
        entry.loc, entry.lastmod, entry.changefreq, entry.priority = (
            loc, lastmod, changefreq, priority)  # fmt: skip
        self.urls.append(entry)

    def warn(self, code: str, message: str) -> None:
        self.warnings[code] = message

    @property
    def locs(self) -> list[str | None]:
        return [u.loc for u in self.urls]


def parse(
    data: bytes, *, fast: bool = True, chunk: int = 4096, max_bytes: int = 100 * MIB
) -> Parsed:
    parsed = Parsed()
    reader = SitemapReader("test.xml", parsed, max_bytes=max_bytes, fast_xml=fast)
    try:
        for i in range(0, len(data), chunk):
            reader.feed(data[i : i + chunk])
        reader.close()
    except SitemapError as exc:
        parsed.error = exc
    parsed.kind, parsed.bytes, parsed.is_gzip = reader.kind, reader.bytes, reader.is_gzip
    return parsed


def fixture(name: str, **kwargs: object) -> Parsed:
    return parse((FIXTURES / name).read_bytes(), **kwargs)  # type: ignore[arg-type]


BOTH = pytest.mark.parametrize("fast", [True, False], ids=["fast", "walker"])


# -- urlsets and their extensions ---------------------------------------------------------


@BOTH
def test_the_protocol_example_urlset_reads_every_field(fast: bool) -> None:
    p = fixture("advertools__regular_sitemap.xml", fast=fast)
    assert p.kind == "urlset" and p.error is None and not p.warnings
    assert p.locs == [
        "http://www.example.com/",
        "http://www.example.com/catalog?item=12&desc=vacation_hawaii",
        "http://www.example.com/catalog?item=73&desc=vacation_new_zealand",
        "http://www.example.com/catalog?item=74&desc=vacation_newfoundland",
        "http://www.example.com/catalog?item=83&desc=vacation_usa",
    ]
    assert [u.lastmod for u in p.urls] == [
        "2005-01-01", None, "2004-12-23", "2004-12-23T18:00:15+00:00", "2004-11-23",
    ]  # fmt: skip
    assert [u.changefreq for u in p.urls] == ["monthly", "weekly", "weekly", None, None]
    assert [u.priority for u in p.urls] == ["0.8", None, None, "0.3", None]


def test_a_gz_name_on_plain_xml_is_read_as_plain_xml() -> None:
    p = fixture("advertools__regular_sitemap.xml.gz")
    assert not p.is_gzip and p.kind == "urlset" and len(p.urls) == 5
    assert p.bytes == 920


@pytest.mark.parametrize(
    ("name", "kind", "n", "first"),
    [
        ("advertools__zipped_sitemap.xml.gz", "urlset", 5, "http://www.gzipped.com/"),
        ("crawler-commons__xmlSitemap.gz", "urlset", 5, "http://www.example.com/"),
        ("crawler-commons__sitemap.txt.gz", "text", 5, "http://www.example.com/"),
        ("trafilatura__sitemap.xml.gz", "urlset", 84, "https://www.sitemaps.org/"),
    ],
)
def test_real_gzip_is_detected_by_its_magic_bytes(name: str, kind: str, n: int, first: str) -> None:
    p = fixture(name)
    assert p.is_gzip and p.kind == kind and len(p.urls) == n and p.locs[0] == first
    assert p.error is None


@BOTH
def test_image_extension_counts_and_locs(fast: bool) -> None:
    p = fixture("advertools__image_sitemap.xml", fast=fast)
    assert [(u.loc, u.n_images, u.images) for u in p.urls] == [
        ("http://example.com/sample.html", 2,
         ["http://example.com/image.jpg", "http://example.com/photo.jpg"]),
        ("http://example.com/sample_2.html", 2,
         ["http://example.com/image2.jpg", "http://example.com/photo2.jpg"]),
    ]  # fmt: skip
    google = fixture("crawler-commons__ext__sitemap-images.xml", fast=fast)
    assert [(u.n_images, u.images) for u in google.urls] == [
        (2, ["http://example.com/image.jpg", "http://example.com/photo.jpg"])
    ]


@BOTH
def test_the_real_news_sitemap_with_trailing_space_in_loc(fast: bool) -> None:
    p = fixture("advertools__news_sitemap.xml", fast=fast)
    assert p.kind == "urlset" and len(p.urls) == 6
    first = p.urls[0]
    assert (
        first.loc
        == "https://www.nytimes.com/interactive/2020/05/11/magazine/quarantine-insanity.html"
    )
    assert first.lastmod == "2020-05-19T21:57:45Z"
    assert first.news is not None
    assert first.news.title == (
        "Quarantine Was Driving Me Crazy — So I Decided to Lose My Mind on Purpose"
    )
    assert first.news.publication_date == "2020-05-11T09:00:01Z"
    assert (first.news.publication_name, first.news.language) == ("The New York Times", "en-US")
    assert [u.n_images for u in p.urls] == [0, 1, 1, 1, 1, 1]
    assert p.urls[1].news is not None
    assert p.urls[1].news.title == "I Didn’t Feel Parisian Until I Escaped Paris"


@BOTH
def test_google_news_example_with_an_empty_publication_name(fast: bool) -> None:
    p = fixture("crawler-commons__ext__sitemap-news.xml", fast=fast)
    news = [u.news for u in p.urls]
    assert [n.title for n in news if n] == [
        "Companies A, B in Merger Talks",
        "Test empty news attributes",
    ]
    assert [n.publication_date for n in news if n] == ["2008-12-23", "2025-05-27"]
    assert [n.publication_name for n in news if n] == ["The Example Times", None]
    assert [n.language for n in news if n] == ["en", "en"]


@BOTH
def test_real_video_sitemap_with_cdata_and_lastmod_after_the_extension(fast: bool) -> None:
    p = fixture("advertools__video_sitemap.xml", fast=fast)
    assert len(p.urls) == 6 and all(u.n_videos == 1 for u in p.urls)
    first = p.urls[0]
    assert first.lastmod == "2020-05-05T16:01:00Z"
    assert first.videos is not None
    video = first.videos[0]
    assert video.title == "Trump Indonesia trees"
    assert video.content_loc == "None"  # literally; the row keeps what the site wrote
    assert video.duration == "18"
    assert video.publication_date == "2020-05-05T16:03:31Z"


@BOTH
def test_google_video_examples(fast: bool) -> None:
    p = fixture("crawler-commons__ext__sitemap-videos.xml", fast=fast)
    assert [u.loc for u in p.urls] == [
        f"http://www.example.com/videos/some_video_landing_page{s}.html" for s in ("", "-2", "-3")
    ]
    titles = [u.videos[0].title for u in p.urls if u.videos]
    assert titles == [
        "Grilling steaks for summer",
        "Grilling steaks for summer, episode 2",
        "Grilling steaks for summer, episode 3",
    ]
    tv = fixture("crawler-commons__ext__sitemap-videos-tvshow.xml", fast=fast)
    (entry,) = tv.urls
    assert entry.loc == "https://example.org/my-tv-show/23/13/"  # <loc> after <video:video>
    assert entry.videos is not None
    video = entry.videos[0]
    assert video.title == "My TV Show! - Thu, Jun 05, 2025"
    assert video.player_loc == "https://example.org/video/embed/23-13"
    assert video.content_loc == "https://example.org/video/video/23-13.mp4"
    assert video.thumbnail_loc == "https://example.org/my-tv-show.jpg"
    assert video.duration == "2459"


@BOTH
@pytest.mark.parametrize(
    "name", ["crawler-commons__ext__sitemap-links.xml", "trafilatura__sitemap-hreflang.xml"]
)
def test_hreflang_alternates_are_a_list_in_file_order(fast: bool, name: str) -> None:
    p = fixture(name, fast=fast)
    assert len(p.urls) == 3
    for entry in p.urls:
        assert [lang for lang, _ in entry.alternates or []] == ["de", "de-ch", "en"]
    first = p.urls[0].alternates or []
    assert first[0][1].startswith("http://www.example.com/deutsch/")


@BOTH
def test_a_sitemap_entry_inside_a_urlset_is_a_child_with_a_warning(fast: bool) -> None:
    p = fixture("trafilatura__sitemap-hreflang.xml", fast=fast)
    assert p.children == [("http://www.example.com/sitemap2.xml.gz", None)]
    assert "mixed_entries" in p.warnings


@BOTH
def test_mobile_in_both_element_forms(fast: bool) -> None:
    p = fixture("crawler-commons__ext__sitemap-mobile.xml", fast=fast)
    assert [(u.loc, u.mobile) for u in p.urls] == [
        ("http://www.example.com/mobile-friendly-1/", True),
        ("http://www.example.com/mobile-friendly-2/", True),
        ("http://www.example.com/no-mobile/", False),
    ]


@BOTH
def test_pagemap_inside_url_switches_the_default_namespace_without_harm(fast: bool) -> None:
    p = fixture("crawler-commons__ext__pagemaps-sitemap.xml", fast=fast)
    assert p.locs == ["http://www.example.com/foo", "http://www.example.com/bar"]
    assert p.urls[0].n_images == 0 and not p.warnings


@BOTH
def test_real_sitemaps_org_sitemap(fast: bool) -> None:
    p = fixture("trafilatura__sitemap.xml", fast=fast)
    assert len(p.urls) == 84 and p.urls[0].lastmod == "2016-11-21"
    assert "https://www.sitemaps.org/protocol.html" in p.locs


# -- namespaces, whitespace, BOM ----------------------------------------------------------


@BOTH
def test_the_legacy_google_namespace_is_accepted_with_a_warning(fast: bool) -> None:
    p = fixture("crawler-commons__sitemap.badns.xml", fast=fast)
    assert p.locs == ["http://www.example.com/1", "http://www.example.com/2"]
    assert [u.changefreq for u in p.urls] == ["daily", "daily"]  # newlines and tabs stripped
    assert "legacy Google namespace" in p.warnings["legacy_namespace"]


@BOTH
def test_a_prefixed_sitemap_namespace_is_the_same_as_the_default_one(fast: bool) -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        b'<sit:urlset xmlns:sit="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sit:url><sit:loc>http://www.example.com/1</sit:loc>"
        b"<sit:changefreq>daily</sit:changefreq></sit:url>"
        b"<sit:url><sit:loc>http://www.example.com/2</sit:loc></sit:url></sit:urlset>"
    )
    p = parse(data, fast=fast)
    assert p.locs == ["http://www.example.com/1", "http://www.example.com/2"]
    assert p.urls[0].changefreq == "daily" and not p.warnings


@BOTH
def test_bom_and_whitespace_before_the_xml_declaration_are_skipped(fast: bool) -> None:
    data = (
        b"\xef\xbb\xbf\n \t\r\n"
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://www.example.com/</loc></url></urlset>"
    )
    assert parse(data, fast=fast).locs == ["http://www.example.com/"]


@BOTH
def test_unicode_spaces_around_a_cdata_loc_are_stripped(fast: bool) -> None:
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>'
        "\u00a0\u2000<![CDATA[ http://www.example.com/a?x=1&y=2 ]]>\u2000\n </loc></url></urlset>"
    ).encode()
    assert parse(data, fast=fast).locs == ["http://www.example.com/a?x=1&y=2"]


def test_a_text_sitemap_with_a_bom_and_a_plain_one() -> None:
    with_bom = fixture("crawler-commons__sitemap-with-bom.txt")
    plain = fixture("crawler-commons__sitemap.txt")
    for p in (with_bom, plain):
        assert p.kind == "text"
        assert p.locs == ["http://www.domain.com/page1.html", "http://www.domain.com/page2.html"]


def test_text_lines_that_are_not_urls_are_skipped_and_counted() -> None:
    p = parse(b"http://e.com/a\r\n\r\nnot a url\nftp://e.com/x\nhttps://e.com/b")
    assert p.locs == ["http://e.com/a", "https://e.com/b"]
    assert p.warnings["not_a_url_line"].startswith("2 lines")


# -- indexes ------------------------------------------------------------------------------


@BOTH
def test_an_index_lists_children_with_their_lastmod(fast: bool) -> None:
    p = fixture("advertools__sitemap_index.xml", fast=fast)
    assert p.kind == "index" and not p.urls
    assert p.children == [
        ("https://advertools.readthedocs.io/sitemap.xml", "2020-05-20T18:23:17+00:00"),
        ("http://www.example.com/sitemap.xml", "2020-05-20"),
        ("https://raw.githubusercontent.com/eliasdabbas/advertools/master/tests/data/"
         "sitemap_testing/sitemap_index.xml", None),
        ("https://www.google.com/adwords/sitemap_us.xml", "2020-05-20"),
    ]  # fmt: skip


@BOTH
def test_urls_as_bare_text_inside_sitemap_are_accepted_with_a_warning(fast: bool) -> None:
    p = fixture("crawler-commons__sitemap.index.xml", fast=fast)
    assert len(p.children) == 15
    assert p.children[0] == ("https://example.com/sitemap.jss?portalCode=10260&lang=en", None)
    assert p.warnings["bare_url"].startswith("15 entries")


# -- feeds --------------------------------------------------------------------------------


def test_an_atom_feed_uses_the_alternate_link_and_updated() -> None:
    p = fixture("crawler-commons__atom.xml")
    assert p.kind == "atom"
    assert [(u.loc, u.lastmod) for u in p.urls] == [
        ("http://example.org/2003/12/13/atom03", "2003-12-13T18:30:02Z")
    ]
    assert p.urls[0].is_feed


def test_an_rss_feed_uses_item_links_then_permalink_guids() -> None:
    data = (
        b'<rss version="2.0"><channel><title>Shop</title><link>http://e.com/</link>'
        b"<item><title>A</title><link>http://e.com/a</link>"
        b"<pubDate>Sat, 13 Dec 2003 18:30:02 GMT</pubDate></item>"
        b"<item><guid>http://e.com/b</guid></item>"
        b'<item><guid isPermaLink="false">tag:e.com,1</guid></item></channel></rss>'
    )
    p = parse(data)
    assert p.kind == "rss"
    assert [(u.loc, u.lastmod) for u in p.urls] == [
        ("http://e.com/a", "Sat, 13 Dec 2003 18:30:02 GMT"),
        ("http://e.com/b", None),
    ]
    assert p.warnings["missing_loc"].startswith("1 entries")


# -- malformed and hostile input ----------------------------------------------------------


@BOTH
def test_broken_xml_is_an_error_naming_the_file_and_position(fast: bool) -> None:
    p = fixture("advertools__error_sitemap.xml", fast=fast)
    assert p.error is not None and p.error.kind == "xml_error"
    assert str(p.error).startswith("test.xml: XML is not well-formed")
    assert "line 3" in str(p.error)
    assert "missing_namespace" in p.warnings and not p.urls


@BOTH
def test_urls_before_a_syntax_error_are_kept(fast: bool) -> None:
    urls = b"".join(b"<url><loc>http://e.com/%d</loc></url>" % i for i in range(3000))
    data = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + urls
        + b"<url><loc>x</url>"
    )
    p = parse(data, fast=fast)
    assert p.error is not None and p.error.kind == "xml_error"
    assert len(p.urls) == 3000


@BOTH
@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
        b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE x [<!ENTITY % pe SYSTEM "http://127.0.0.1:9/evil.dtd"> %pe;]>',
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity"],
)
def test_entity_declarations_are_refused(fast: bool, doctype: bytes) -> None:
    data = (
        b'<?xml version="1.0"?>' + doctype
        + b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol2;</loc>'
        b"</url></urlset>"
    )  # fmt: skip
    p = parse(data, fast=fast)
    assert p.error is not None and p.error.kind == "entities_refused"
    assert not p.urls


def test_an_undefined_entity_is_a_syntax_error_not_a_lookup() -> None:
    data = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&nbsp;</loc></url></urlset>'
    p = parse(data)
    assert p.error is not None and "undefined entity" in str(p.error)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b" \r\n\t", "the file is empty"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "an HTML page"),
        (b"\x00\x01\x02garbage\xff\xfe" * 4, "binary data 00 01 02"),
        (b"User-agent: *\nDisallow: /\n", "starts with 'User-agent"),
        (b'<?xml version="1.0"?><catalog><book/></catalog>', "unknown root element <catalog>"),
        (b'<?xml version="1.0" encoding="klingon"?><urlset/>', "unknown encoding 'klingon'"),
    ],
)
def test_content_that_is_no_sitemap_is_refused_clearly(data: bytes, message: str) -> None:
    p = parse(data)
    assert p.error is not None and p.error.kind in ("not_a_sitemap", "unknown_encoding")
    assert message in str(p.error)


@BOTH
def test_entries_without_loc_and_with_two_locs_are_counted(fast: bool) -> None:
    data = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><lastmod>2024-01-01</lastmod></url>"
        b"<url><loc>http://e.com/1</loc><loc>http://e.com/2</loc></url></urlset>"
    )
    p = parse(data, fast=fast)
    assert p.locs == ["http://e.com/1"]
    assert p.warnings["missing_loc"].startswith("1 ")
    assert p.warnings["multiple_loc"].startswith("1 ")


@BOTH
def test_a_giant_comment_is_refused_before_it_fills_memory(fast: bool) -> None:
    data = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><!--' + b"a" * (9 * MIB)
    p = parse(data, fast=fast, chunk=MIB)
    assert p.error is not None and p.error.kind == "too_large"
    assert "no entry ends within 8 MiB" in str(p.error)


# -- encodings ----------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize("encoding", ["windows-1252", "shift_jis", "utf-16"])
def test_declared_encodings_are_honoured(fast: bool, encoding: str) -> None:
    loc = "http://e.com/café" if encoding == "windows-1252" else "http://e.com/日本"
    text = (
        f'<?xml version="1.0" encoding="{encoding.upper()}"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{loc}</loc>'
        "</url></urlset>"
    )
    assert parse(text.encode(encoding), fast=fast).locs == [loc]


# -- the two readers agree ----------------------------------------------------------------


def _view(p: Parsed) -> tuple:
    entries = [
        (u.loc, u.lastmod, u.changefreq, u.priority, u.images, u.n_images, u.n_videos,
         [(v.title, v.content_loc, v.player_loc, v.thumbnail_loc, v.duration,
           v.publication_date) for v in u.videos or []],
         u.news and (u.news.title, u.news.publication_date, u.news.publication_name,
                     u.news.language),
         u.alternates, u.mobile, u.loc_is_bare)
        for u in p.urls
    ]  # fmt: skip
    return (p.kind, entries, p.children, p.warnings, p.error and p.error.kind)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.iterdir() if p.is_file() and p.suffix != ".md")
)
def test_fast_reader_and_walker_agree_on_every_fixture(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert _view(parse(data, fast=True)) == _view(parse(data, fast=False))


@pytest.mark.parametrize(
    "name", ["advertools__news_sitemap.xml", "crawler-commons__sitemap.index.xml"]
)
def test_chunking_never_changes_the_result(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    whole = _view(parse(data, chunk=len(data)))
    assert _view(parse(data, chunk=1)) == whole
    assert _view(parse(data, chunk=7, fast=False)) == whole


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.iterdir() if p.is_file() and p.suffix != ".md")
)
def test_both_readers_land_identical_rows(name: str, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from ingest.sitemaps.rows import UrlRows

    tables = []
    for fast in (True, False):
        part = tmp_path / f"{fast}.parquet"
        rows = UrlRows("https://www.example.com/sitemap.xml", part)
        reader = SitemapReader(name, rows, max_bytes=100 * MIB, fast_xml=fast)
        try:
            reader.feed((FIXTURES / name).read_bytes())
            reader.close()
        except SitemapError:
            pass
        rows.close()
        tables.append((pq.read_table(part).to_pylist(), rows.counts.warning_list()))
    assert tables[0] == tables[1]
