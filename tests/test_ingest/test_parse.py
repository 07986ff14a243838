"""parse_page on real saved pages (values checked by reading the HTML) and on small snippets."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from ingest.crawl.parse import (
    ExtractedLink,
    ParsedPage,
    applicable_x_robots_tag,
    decode_body,
    looks_like_html,
    parse_link_header,
    parse_page,
)
from ingest.crawl.positions import PositionRules
from ingest.urls import Scope, UrlPolicy, host_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "html"


def parse_fixture(name: str, url: str, **kwargs: object) -> ParsedPage:
    kwargs.setdefault("status", 200)
    kwargs.setdefault("headers", {})
    kwargs.setdefault("scope", Scope(frozenset({host_of(url)})))
    return parse_page((FIXTURES / name).read_bytes(), url, **kwargs)  # type: ignore[arg-type]


def parse_html(
    html: str | bytes, url: str = "https://example.com/dir/page.html", **kwargs: object
) -> ParsedPage:
    body = html.encode("utf-8") if isinstance(html, str) else html
    kwargs.setdefault("status", 200)
    kwargs.setdefault("headers", {})
    kwargs.setdefault("scope", Scope(frozenset({"example.com"})))
    return parse_page(body, url, **kwargs)  # type: ignore[arg-type]


def links_to(page: ParsedPage, target: str) -> list[ExtractedLink]:
    return [link for link in page.links if link.target_url == target]


def only_link_to(page: ParsedPage, target: str) -> ExtractedLink:
    found = links_to(page, target)
    assert len(found) == 1, f"{len(found)} links to {target}"
    return found[0]


# --------------------------------------------------------------------------------------------
# Real pages (trafilatura's saved test pages)

AUSTRIA = "https://www.austria.info/de/aktivitaten/radfahren/radfahren-in-der-weltstadt-salzburg"


def test_austria_info_canonical_robots_and_24_hreflang_alternates() -> None:
    page = parse_fixture("trafilatura__austria.info.radfahren.html", AUSTRIA)
    assert page.canonical == AUSTRIA
    assert page.canonical_source == "html"
    assert page.meta_robots == "index,follow"  # content="INDEX,FOLLOW", lowercased
    assert (page.is_noindex, page.is_indexable, page.indexability_reason) == (
        False,
        True,
        "indexable",
    )
    assert page.title == "Radfahren in der Stadt Salzburg"
    assert page.h1 == "Salzburg – Radfahren in der Weltstadt"
    assert len(page.hreflang) == 24
    assert page.hreflang[0] == ("de-DE", AUSTRIA)
    assert (
        "de-CH",
        "https://www.austria.info/ch/aktivitaten/velofahren/velofahren-in-der-weltstadt-salzburg",
    ) in page.hreflang
    assert page.hreflang[-1] == (
        "cs",
        "https://www.austria.info/cz/aktivity-a-zazitky/cykloturistika/na-kole-rakouskymi-mesty",
    )


def test_austria_info_links_and_their_positions() -> None:
    page = parse_fixture("trafilatura__austria.info.radfahren.html", AUSTRIA)
    # 253 <a href> in the file: 246 http(s) links, 7 skipped (tel:, mailto:, whatsapp:, ...).
    assert len(page.links) == 246
    assert len(page.skipped_hrefs) == 7
    assert ("tel:0080040020000", "scheme:tel") in page.skipped_hrefs
    assert ("mailto:urlaub@austria.info", "scheme:mailto") in page.skipped_hrefs
    assert [link.link_index for link in page.links] == list(range(246))
    # footer.page-footer > nav.footer-menu: a nav inside the site footer is footer.
    datenschutz = only_link_to(page, "https://www.austria.info/de/agb/datenschutz")
    assert (datenschutz.position, datenschutz.anchor_text) == ("footer", "Datenschutz")
    # nav.language-select
    deutsch = [
        link
        for link in links_to(page, "https://www.austria.info/at")
        if link.anchor_text == "Deutsch"
    ]
    assert [link.position for link in deutsch] == ["nav"]
    # nav.top-bar-de (line 1230), then div.breadcrumb (line 2666)
    aktivitaten = links_to(page, "https://www.austria.info/de/aktivitaten")
    assert [link.position for link in aktivitaten] == ["nav", "breadcrumb"]
    # aside.left-off-canvas-menu > ul.navigation, then nav.top-bar (Foundation's top navigation)
    gewinnspiel = links_to(page, "https://www.austria.info/de/gewinnspiel")
    assert [link.position for link in gewinnspiel] == ["nav", "nav"]
    assert only_link_to(page, "https://jobs.austriatourism.com/").is_internal is False


BEFIFTY = "https://www.befifty.de/home/2017/7/12/unter-uns-montauk"


def test_befifty_empty_base_href_resolves_to_the_page_itself() -> None:
    page = parse_fixture("trafilatura__befifty.montauk.html", BEFIFTY)
    assert page.base_href == BEFIFTY  # <base href=""> is the document URL
    assert page.canonical == BEFIFTY
    assert page.meta_robots is None
    assert page.indexability_reason == "indexable"
    # 85 <a href> in the source, 2 of them inside a <script> string: 83 links.
    assert len(page.links) == 83
    assert page.skipped_hrefs == []
    likes = [link for link in page.links if link.anchor_text == "0 Likes"]
    assert [link.target_url for link in likes] == [BEFIFTY]  # href="#": a self-link
    tag = only_link_to(page, "https://www.befifty.de/home/tag/Montauk")
    assert (tag.rel, tag.is_nofollow, tag.position) == ("tag", False, "content")
    # footer#footer.site-footer[role=contentinfo] / nav#mainNavigation in the header
    assert [link.position for link in links_to(page, "https://www.befifty.de/impressum")] == [
        "nav",
        "footer",
    ]


ERP_NEWS = "https://erp-news.info/erp-interview-mit-um-digitale-assistenten-und-kuenstliche-intelligenz-ki/"


def test_erp_news_pingbacks_are_nofollow_ugc() -> None:
    page = parse_fixture("trafilatura__erp-news.info.interview.html", ERP_NEWS)
    assert page.canonical == ERP_NEWS
    pingback = only_link_to(
        page,
        "https://erp-news.info/erp-interview-mit-tecart-digitale-assistenten-und-kuenstliche-intelligenz-ki/",
    )
    assert pingback.rel == "external nofollow ugc"
    assert (pingback.is_nofollow, pingback.is_ugc, pingback.is_sponsored) == (True, True, False)
    assert pingback.position == "content"
    # main menu, the article's category list, a featured-posts widget
    trend = links_to(page, "https://erp-news.info/category/trendthemen/")
    assert [(link.rel, link.position) for link in trend] == [
        ("", "nav"),
        ("category tag", "content"),
        ("category tag", "sidebar"),
    ]
    assert not any(link.is_nofollow for link in trend)
    assert ("sms:" in page.skipped_hrefs[0][0], page.skipped_hrefs[0][1]) == (True, "scheme:sms")


def test_erp_news_wordpress_regions() -> None:
    page = parse_fixture("trafilatura__erp-news.info.interview.html", ERP_NEWS)
    assert len(page.links) == 189
    # nav#site-navigation.main-navigation inside header#masthead
    erp = only_link_to(page, "https://erp-news.info/category/unternehmenssoftware/erp/")
    assert erp.position == "nav"
    # footer#colophon holds widget <aside>s and ul.menu: all footer
    assert only_link_to(page, "https://erp-news.info/impressum/").position == "footer"
    # breaking-news ticker in header#masthead, then "Neueste Beiträge" in div#secondary aside.widget
    ki = links_to(page, "https://erp-news.info/kuenstliche-intelligenz-zieht-in-unternehmen-ein/")
    assert [link.position for link in ki] == ["header", "sidebar"]
    positions = Counter(link.position for link in page.links)
    assert positions["footer"] == 30
    assert positions["nav"] == 42


LANDWIRT = "https://www.landwirt.com/Precision-Farming-Moderne-Sensortechnik-im-Kuhstall,,4229,,Bericht.html"


def test_landwirt_iso_8859_1_page_decodes_as_windows_1252() -> None:
    page = parse_fixture("trafilatura__landwirt.com.sensortechnik.html", LANDWIRT)
    assert page.encoding == "cp1252"  # declared charset=iso-8859-1
    assert page.meta_robots == "index,follow,noodp"
    assert page.canonical is None
    assert page.indexability_reason == "indexable"
    sau = links_to(
        page, "https://www.landwirt.com/Wasser-Wie-viel-saeuft-die-Sau,,4227,,Bericht.html"
    )
    assert sau[0].anchor_text == "Wasser: Wie viel säuft die Sau?"  # raw byte \xe4
    bagger = only_link_to(
        page, "https://www.landwirt.com/ez/index.php/kleinanzeigen/anfrage/597352/"
    )
    assert bagger.anchor_text == "Reißzahn für 5 - 8 t Bagger"
    # href='/gebrauchte,1610851,IH-IH-6200-vetg\xe9p.html': the path is UTF-8 percent-encoded
    vetgep = links_to(
        page, "https://www.landwirt.com/gebrauchte,1610851,IH-IH-6200-vetg%C3%A9p.html"
    )
    assert len(vetgep) == 2
    assert vetgep[0].href_raw == "/gebrauchte,1610851,IH-IH-6200-vetgép.html"


def test_landwirt_bootstrap_navbars_and_div_footer() -> None:
    page = parse_fixture("trafilatura__landwirt.com.sensortechnik.html", LANDWIRT)
    # 264 <a href> in the file, 2 in comments; 2 skipped (javascript:, mailto:).
    assert len(page.links) == 260
    assert {reason for _, reason in page.skipped_hrefs} == {"scheme:javascript", "scheme:mailto"}
    # header > div.navbar[role=navigation] (x2), nav.navbar (x2), div#footer
    fachfragen = links_to(page, "https://www.landwirt.com/fachfragen/")
    assert [link.position for link in fachfragen] == ["nav", "nav", "nav", "nav", "footer"]
    assert [link.anchor_text for link in fachfragen][-1] == "Fragen & Antworten"


def test_angular_templated_meta_robots_is_not_a_noindex() -> None:
    page = parse_fixture(
        "trafilatura__lanouvellerepublique.fr.martin.html",
        "https://www.lanouvellerepublique.fr/indre/martin",
    )
    # <meta name="robots" ng-attr-content="{{ ... }}">: no static content attribute.
    assert page.meta_robots is None
    assert page.is_noindex is False
    assert page.is_indexable is True
    assert page.title == ""  # <title ng-bind-template="..."></title>
    assert page.base_href == "https://www.lanouvellerepublique.fr/"  # <base href="/">
    # href="" resolves to the base; the third <a> only has ng-href.
    assert [link.target_url for link in page.links] == ["https://www.lanouvellerepublique.fr/"] * 2


RS = "http://www.rs-ingenieure.de/de/tragwerksplanung"


def test_rs_ingenieure_relative_links_resolve_against_base_href() -> None:
    page = parse_fixture("trafilatura__rs-ingenieure.de.tragwerksplanung.html", RS)
    assert page.base_href == "http://www.rs-ingenieure.de/"
    assert page.meta_robots == "index,follow"
    assert len(page.links) == 29
    back = [link for link in page.links if link.anchor_text == "zurück ►"]
    # href="de/hochbau/leistungen": /de/de/hochbau/leistungen without the base
    assert [link.target_url for link in back] == [
        "http://www.rs-ingenieure.de/de/hochbau/leistungen"
    ]
    assert back[0].href_raw == "de/hochbau/leistungen"
    # div.breadcrumb_navigation, div.meta_navigation, div.navigation
    assert [link.position for link in page.links[1:4]] == ["breadcrumb"] * 3
    assert only_link_to(page, "http://www.rs-ingenieure.de/de/meta/impressum").position == "nav"
    assert only_link_to(page, "http://www.rs-ingenieure.de/de/kontakt/anfahrt").position == "nav"


SIMPLY = "http://www.simplyscience.ch/teens-liesnach-archiv/articles/wie-entsteht-erdoel.html"


def test_simplyscience_base_href_nofollow_and_image_alt() -> None:
    page = parse_fixture("trafilatura__simplyscience.ch.erdoel.html", SIMPLY)
    assert page.base_href == "http://www.simplyscience.ch/"
    assert page.canonical == SIMPLY
    assert page.meta_robots == "index,follow"
    assert len(page.links) == 95
    assert page.skipped_hrefs == [("javascript:history.go(-1)", "scheme:javascript")] * 2
    email = links_to(
        page,
        "http://www.simplyscience.ch/artikel-versenden.html"
        "?url=http%3A%2F%2Fwww.simplyscience.ch%2Fteens-wissen%2Farticles%2Fwie-entsteht-erdoel.html"
        "&articleId=19010",
    )
    assert [link.is_nofollow for link in email] == [True, True]
    # href="#" resolves against the base, not the page URL
    print_links = [link for link in page.links if link.anchor_text == "Diese Seite drucken"]
    assert {link.target_url for link in print_links} == {"http://www.simplyscience.ch/"}
    logo = links_to(page, "http://www.simplyscience.ch/home.html")[0]  # header logo
    assert logo.is_image is True
    assert (
        logo.anchor_text == "Logo SimplyScience - Deine Webseite für Naturwissenschaft und Technik"
    )
    assert logo.position == "header"
    assert only_link_to(page, "http://www.simplyscience.ch/agb.html").position == "footer"
    wissen = links_to(page, "http://www.simplyscience.ch/teens-wissen.html")
    assert [link.position for link in wissen] == [
        "nav",
        "breadcrumb",
    ]  # nav#nav_level_2, div.mod_breadcrumb


VIEHBACHER = "https://viehbacher.com/de/steuerrecht"


def test_viehbacher_hreflang_and_language_flag_links() -> None:
    page = parse_fixture("trafilatura__viehbacher.com.steuerrecht.html", VIEHBACHER)
    assert page.hreflang == [
        ("de-DE", "https://viehbacher.com/de/steuerrecht"),
        ("de-AT", "https://viehbacher.com/at/steuerrecht"),
        ("en-GB", "https://viehbacher.com/en/tax-law"),
    ]
    assert page.canonical == VIEHBACHER
    assert page.base_href == VIEHBACHER
    assert page.indexability_reason == "indexable"
    # 64 <a href> in the source, one in a comment (the nofollow "to top" link), 2 mailto:.
    assert len(page.links) == 61
    assert [href for href, _ in page.skipped_hrefs] == [
        "mailto:steuer-DE@viehbacher.com",
        "mailto:muenchen@viehbacher.com",
    ]
    flag = only_link_to(page, "https://viehbacher.com/at/steuerrecht")
    assert (flag.is_image, flag.anchor_text, flag.position) == (True, "Deutsch (AT)", "header")
    assert only_link_to(page, "https://viehbacher.com/de/impressum").position == "footer"
    top = [link for link in page.links if link.anchor_text == "Nach oben"]
    assert [link.target_url for link in top] == [VIEHBACHER]  # "#startOfPageId462": self-link


def test_real_pages_canonicalised_when_fetched_under_another_url() -> None:
    page = parse_fixture(
        "trafilatura__viehbacher.com.steuerrecht.html", VIEHBACHER + "?utm_source=x&page=2"
    )
    assert page.indexability_reason == "canonicalised"
    assert page.is_indexable is False


# --------------------------------------------------------------------------------------------
# scrapy's link-extractor pages


def test_scrapy_link_extractor_page() -> None:
    page = parse_fixture("scrapy__linkextractor.html", "http://example.com/sample.html")
    assert page.base_href == "http://example.com"
    got = [(link.target_url, link.anchor_text, link.is_image) for link in page.links]
    assert got == [
        ("http://example.com/sample1.html", "sample1", True),  # <area>: its alt
        ("http://example.com/sample2.html", "sample 2", True),  # text wins over the img alt
        ("http://example.com/sample3.html", "sample 3 text", False),
        ("http://example.com/sample3.html", "sample 3 repetition", False),
        ("http://example.com/sample3.html", "sample 3 repetition", False),
        ("http://example.com/sample3.html", "sample 3 repetition with fragment", False),
        ("http://www.google.com/something", "", False),
        ("http://example.com/innertag.html", "inner tag", False),
        ("http://example.com/page%204.html", "href with whitespaces", False),
    ]
    assert [link.is_internal for link in page.links].count(False) == 1


def test_anchor_without_href_is_not_a_link() -> None:
    page = parse_fixture("scrapy__linkextractor_no_href.html", "http://example.com/quotes")
    assert [link.target_url for link in page.links] == [
        "http://example.com/author/Albert-Einstein",
        "http://example.com/page/1/",
        "http://example.com/page/3/",
        "http://example.com/page/4/",
    ]
    assert [link.link_index for link in page.links] == [0, 1, 2, 3]


def test_page_without_declared_encoding_that_is_valid_utf8() -> None:
    page = parse_fixture("scrapy__linkextractor_noenc.html", "http://example.com/noenc")
    assert page.encoding == "utf-8"
    assert [(link.target_url, link.anchor_text) for link in page.links] == [
        ("http://example.com/sample_%C3%B1.html", "sample2"),
        ("http://example.com/sample_%E2%82%AC.html", "sample € text"),
    ]


def test_latin1_declared_page_with_utf8_bytes_decodes_like_a_browser() -> None:
    # The file declares charset=latin-1 but its bytes are UTF-8: a browser shows mojibake and
    # requests the mojibake's UTF-8 path; the query is encoded in windows-1252, which gives back
    # the original bytes.
    page = parse_fixture("scrapy__linkextractor_latin1.html", "http://example.com/latin1")
    assert page.encoding == "cp1252"
    assert [(link.target_url, link.anchor_text) for link in page.links] == [
        ("http://example.com/sample_%C3%83%C2%B1.html", "sample2"),
        ("http://example.com/sample_%C3%83%C2%A1.html", "sample Ã¡ text"),
        ("http://example.com/sample_%C3%83%C2%B6.html?price=%C2%A332&%C2%B5=unit", "sample3"),
    ]


def test_true_latin1_page_path_is_utf8_and_query_latin1() -> None:
    body = (
        b"<html><head><meta charset='ISO-8859-1'></head><body>"
        b"<a href='sample_\xf1.html'>sample \xe1 text</a>"
        b"<a href='p.html?price=\xa332&\xb5=unit'>x</a></body></html>"
    )
    page = parse_html(body, "http://example.com/latin1")
    assert page.encoding == "cp1252"
    assert [(link.target_url, link.anchor_text) for link in page.links] == [
        ("http://example.com/sample_%C3%B1.html", "sample á text"),
        ("http://example.com/p.html?price=%A332&%B5=unit", "x"),
    ]


# --------------------------------------------------------------------------------------------
# Encoding


def test_undeclared_non_utf8_page_is_detected_by_charset_normalizer() -> None:
    text = (
        "<html><head><title>Новости</title></head><body><p>"
        + "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 4
        + "</p></body></html>"
    )
    decoded, encoding = decode_body(text.encode("cp1251"), "text/html")
    assert (decoded, encoding) == (text, "cp1251")
    page = parse_html(text.encode("cp1251"))
    assert (page.title, page.encoding) == ("Новости", "cp1251")


def test_bom_wins_over_http_and_meta_charset() -> None:
    html = "<html><head><meta charset='windows-1252'><title>Grüße</title></head></html>"
    text, encoding = decode_body(
        b"\xef\xbb\xbf" + html.encode("utf-8"), "text/html; charset=iso-8859-1"
    )
    assert (text, encoding) == (html, "utf-8")
    text, encoding = decode_body(b"\xff\xfe" + html.encode("utf-16-le"), None)
    assert (text, encoding) == (html, "utf-16-le")
    page = parse_html(b"\xef\xbb\xbf" + html.encode("utf-8"))
    assert (page.title, page.encoding) == ("Grüße", "utf-8")


def test_http_charset_wins_over_meta_and_latin1_labels_mean_windows_1252() -> None:
    body = "<meta charset='utf-8'><p>€ café</p>".encode("cp1252")
    assert decode_body(body, "text/html; charset=ISO-8859-1") == (
        "<meta charset='utf-8'><p>€ café</p>",
        "cp1252",
    )
    assert decode_body(
        b"<meta http-equiv='Content-Type' content='text/html; charset=latin1'>\x80", None
    )[1] == ("cp1252")
    # bytes windows-1252 leaves undefined decode to C1 controls, as in browsers, not to errors
    assert decode_body(b"\x81\x8d", "text/html; charset=windows-1252") == ("\x81\x8d", "cp1252")
    # an unknown label is ignored
    assert decode_body("é".encode(), "text/html; charset=nonsense")[1] == "utf-8"


def test_meta_charset_beyond_the_first_4kb_is_not_read() -> None:
    late = b"<!-- " + b"x" * 5000 + b" --><meta charset='koi8-r'><p>caf\xc3\xa9</p>"
    assert decode_body(late, None) == (late.decode("utf-8"), "utf-8")
    early = b"<meta charset='koi8-r'><p>caf\xc3\xa9</p>"
    assert decode_body(early, None)[1] == "koi8-r"


@pytest.mark.parametrize(
    ("content_type", "prefix", "expected"),
    [
        ("text/html; charset=utf-8", b"", True),
        ("application/xhtml+xml", b"<?xml", True),
        ("TEXT/HTML", b"", True),
        (None, b"  <!DOCTYPE html><html>", True),
        ("application/octet-stream", b"\n<HTML><head>", True),
        ("text/plain", b"<body>hi</body>", True),
        ("text/plain", b"just text", False),
        ("application/json", b"<html>", False),
        ("image/png", b"\x89PNG", False),
        (None, b"%PDF-1.7", False),
    ],
)
def test_looks_like_html(content_type: str | None, prefix: bytes, expected: bool) -> None:
    assert looks_like_html(content_type, prefix) is expected


# --------------------------------------------------------------------------------------------
# Robots, canonical, indexability


@pytest.mark.parametrize(
    ("header", "applicable", "noindex", "nofollow"),
    [
        ("noindex", "noindex", True, False),
        ("googlebot: noindex", "googlebot: noindex", True, False),
        ("otherbot: noindex", None, False, False),
        ("otherbot: noindex, nofollow", None, False, False),
        ("googlebot: nofollow, otherbot: noindex, nofollow", "googlebot: nofollow", False, True),
        ("NOINDEX, NOFOLLOW", "noindex, nofollow", True, True),
        ("none", "none", True, True),
        (
            "unavailable_after: 25 Jun 2010 15:00:00 PST",
            "unavailable_after: 25 jun 2010 15:00:00 pst",
            False,
            False,
        ),
        ("max-snippet:-1, otherbot: none", "max-snippet:-1", False, False),
    ],
)
def test_x_robots_tag_applies_to_generic_and_googlebot_only(
    header: str, applicable: str | None, noindex: bool, nofollow: bool
) -> None:
    assert applicable_x_robots_tag(header) == applicable
    page = parse_html("<title>t</title>", headers={"x-robots-tag": header})
    assert page.x_robots_tag == applicable
    assert (page.is_noindex, page.is_nofollow_page) == (noindex, nofollow)
    assert page.indexability_reason == ("noindex" if noindex else "indexable")


def test_meta_robots_and_googlebot_are_combined_and_other_bots_ignored() -> None:
    page = parse_html(
        "<head><meta name='Robots' content='INDEX, Follow'><meta name='bingbot' content='noindex'>"
        "<meta name='googlebot' content='noindex'></head>"
    )
    assert page.meta_robots == "index, follow, noindex"
    assert page.is_noindex is True
    assert page.indexability_reason == "noindex"


def test_link_header_canonical_is_used_when_html_has_none() -> None:
    headers = {
        "link": '<https://example.com/Canonical?utm_source=x>; rel="canonical", <https://example.com/de>; rel="alternate"; hreflang="de"'
    }
    page = parse_html("<title>t</title>", headers=headers)
    assert (page.canonical, page.canonical_source) == ("https://example.com/Canonical", "header")
    assert page.hreflang == [("de", "https://example.com/de")]
    assert page.indexability_reason == "canonicalised"
    page = parse_html("<link rel='canonical' href='/dir/page.html'>", headers=headers)
    assert (page.canonical, page.canonical_source) == ("https://example.com/dir/page.html", "html")
    assert page.indexability_reason == "indexable"


def test_parse_link_header() -> None:
    assert parse_link_header(
        '<https://a.example/x>; rel=canonical, </b>; rel="alternate next"; hreflang=en'
    ) == [
        ("https://a.example/x", {"rel": "canonical"}),
        ("/b", {"rel": "alternate next", "hreflang": "en"}),
    ]


def test_indexability_order_non_200_then_noindex_then_canonical() -> None:
    html = "<meta name=robots content=noindex><link rel=canonical href='https://example.com/other'>"
    assert parse_html(html, status=404).indexability_reason == "non_200"
    assert parse_html(html).indexability_reason == "noindex"
    assert (
        parse_html(html[len("<meta name=robots content=noindex>") :]).indexability_reason
        == "canonicalised"
    )


def test_canonical_in_body_is_ignored_but_noscript_pixel_in_head_does_not_hide_it() -> None:
    head = "<head><noscript><img src='/pixel.gif'></noscript><link rel=canonical href='/c'></head>"
    assert parse_html(head).canonical == "https://example.com/c"
    assert parse_html("<body><p>x</p><link rel=canonical href='/c'></body>").canonical is None


# --------------------------------------------------------------------------------------------
# Links


def test_links_skipped_hrefs_and_self_links() -> None:
    page = parse_html(
        "<a href='#top'>top</a><a href='javascript:void(0)'>js</a><a href=' MAILTO:x@example.com'>m</a>"
        "<a href='tel:+431'>t</a><a href='http://[::1'>bad</a><a href='ftp://example.com/f'>f</a>"
        "<a>no href</a><a href='other.html?utm_source=n&b=2#frag'>o</a>"
    )
    assert [(link.target_url, link.link_index) for link in page.links] == [
        ("https://example.com/dir/page.html", 0),
        ("https://example.com/dir/other.html?b=2", 1),
    ]
    assert [reason for _, reason in page.skipped_hrefs] == [
        "scheme:javascript",
        "scheme:mailto",
        "scheme:tel",
        "invalid_url: Invalid IPv6 URL",
        "scheme:ftp",
    ]
    assert page.skipped_hrefs[1][0] == " MAILTO:x@example.com"


def test_rel_flags_and_raw_rel() -> None:
    page = parse_html(
        "<a href='/a' rel='NoFollow Sponsored'>a</a><a href='/b' rel='ugc'>b</a><a href='/c'>c</a>"
    )
    flags = [(link.rel, link.is_nofollow, link.is_ugc, link.is_sponsored) for link in page.links]
    assert flags == [
        ("nofollow sponsored", True, False, True),
        ("ugc", False, True, False),
        ("", False, False, False),
    ]


def test_image_link_anchor_comes_from_alt_when_there_is_no_text() -> None:
    page = parse_html(
        "<a href='/a'><img src='a.png' alt=' Red   shoes '></a>"
        "<a href='/b'><picture><img src='b.png'></picture></a>"
        "<a href='/c'>Shoes <img src='c.png' alt='ignored'></a>"
        "<map><area href='/d' alt='Region'></map><a href='/e'>plain</a>"
    )
    got = [(link.anchor_text, link.is_image) for link in page.links]
    assert got == [
        ("Red shoes", True),
        ("", True),
        ("Shoes", True),
        ("Region", True),
        ("plain", False),
    ]


def test_base_href_is_resolved_against_the_page_url() -> None:
    page = parse_html("<base href='../other/'><a href='x.html'>x</a><a href='?q=1'>q</a>")
    assert page.base_href == "https://example.com/other/"
    assert [link.target_url for link in page.links] == [
        "https://example.com/other/x.html",
        "https://example.com/other/?q=1",
    ]


def test_resolution_cache_does_not_leak_between_pages_of_one_directory() -> None:
    first = parse_html(
        "<a href='?page=2'>n</a><a href='x.html'>x</a>", url="https://example.com/dir/a.html"
    )
    second = parse_html(
        "<a href='?page=2'>n</a><a href='x.html'>x</a>", url="https://example.com/dir/b.html"
    )
    assert [link.target_url for link in first.links] == [
        "https://example.com/dir/a.html?page=2",
        "https://example.com/dir/x.html",
    ]
    assert [link.target_url for link in second.links] == [
        "https://example.com/dir/b.html?page=2",
        "https://example.com/dir/x.html",
    ]


def test_policy_and_scope_apply_to_targets() -> None:
    policy = UrlPolicy(trailing_slash="add")
    scope = Scope(frozenset({"example.com"}), include_subdomains=True)
    page = parse_html(
        "<a href='/shop'>s</a><a href='https://blog.example.com/p'>b</a><a href='https://other.org/'>o</a>",
        policy=policy,
        scope=scope,
    )
    assert [(link.target_url, link.is_internal) for link in page.links] == [
        ("https://example.com/shop/", True),
        ("https://blog.example.com/p/", True),
        ("https://other.org/", False),
    ]


def test_extracted_links_are_genuine_frozen_dataclasses() -> None:
    link = parse_html("<a href='/a' rel='ugc'>A</a>").links[0]
    assert type(link) is ExtractedLink
    rebuilt = ExtractedLink(**dataclasses.asdict(link))
    assert rebuilt == link and hash(rebuilt) == hash(link)
    with pytest.raises(dataclasses.FrozenInstanceError):
        link.anchor_text = "B"  # type: ignore[misc]


def test_lexbor_duplicate_matches_do_not_duplicate_links() -> None:
    # `a[href]` and `[role]` both match this element; it must be one link.
    page = parse_html("<a href='/x' role='button'>x</a><img role='presentation' src='i.png'>")
    assert len(page.links) == 1


# --------------------------------------------------------------------------------------------
# Text, hash, word count


def test_main_text_excludes_boilerplate_scripts_and_counts_words() -> None:
    html = (
        "<header><a href='/'>Logo</a> Site name</header><nav><a href='/a'>Menu entry</a></nav>"
        "<main><h1>Title</h1><p>Hello <b>brave</b> new world.</p><script>var x = 1;</script>"
        "<style>p{}</style><noscript>enable js</noscript><p>Second, <code>f()</code>, para</p></main>"
        "<footer>Copyright 2024</footer>"
    )
    page = parse_html(html)
    # the space a text-node boundary leaves before "," is taken out again
    assert page.body_text == "Title Hello brave new world. Second, f(), para"
    assert page.word_count == 8
    assert page.h1 == "Title"


def test_without_main_element_the_body_minus_regions_is_the_text() -> None:
    page = parse_html(
        "<div id='header'>Brand</div><div class='sidebar'>Widgets</div><div>Body text here</div>"
        "<div id='footer'>Legal</div>"
    )
    assert page.body_text == "Body text here"


def test_content_hash_ignores_boilerplate_and_whitespace() -> None:
    a = parse_html("<nav>Menu A</nav><main><p>Same   text</p></main><footer>2023</footer>")
    b = parse_html("<nav>Menu B</nav><main><p>Same\ntext</p></main><footer>2024</footer>")
    c = parse_html("<nav>Menu A</nav><main><p>Other text</p></main><footer>2023</footer>")
    assert a.content_hash == b.content_hash != c.content_hash
    assert len(a.content_hash) == 32


def test_body_text_is_capped_but_word_count_is_not() -> None:
    page = parse_html("<main>" + "word " * 100 + "</main>", max_body_text_chars=14)
    assert page.body_text == "word word word"
    assert page.word_count == 100


def test_per_site_position_overrides_are_used() -> None:
    rules = PositionRules.from_overrides(
        {"sidebar": [".related-posts"], "content": ["footer .cta"]}
    )
    page = parse_html(
        "<main><p><a href='/a'>a</a></p><div class='related-posts'><a href='/b'>b</a></div></main>"
        "<footer><a href='/c'>c</a><div class='cta'><a href='/d'>d</a></div></footer>",
        position_rules=rules,
    )
    assert [link.position for link in page.links] == ["content", "sidebar", "footer", "content"]


def test_nested_boilerplate_regions_are_removed_safely() -> None:
    # footer > override content box > override nav > override content > override sidebar: the
    # footer, the nav and the sidebar each sit under a content parent; the text step removes
    # those inside the main element deepest first, so no node is freed twice.
    rules = PositionRules.from_overrides(
        {"content": ["footer .cta", ".inner"], "nav": [".cta nav"], "sidebar": [".inner aside"]}
    )
    page = parse_html(
        "<p>Body</p><footer>Legal <div class='cta'>Buy <nav>Menu <div class='inner'>Deal "
        "<aside>Ad <a href='/ad'>ad</a></aside></div></nav></div></footer>",
        position_rules=rules,
    )
    assert page.body_text == "Buy"
    assert [link.position for link in page.links] == ["sidebar"]


def test_a_non_http_base_href_is_ignored() -> None:
    page = parse_html("<base href='javascript:void(0)'><a href='x.html'>x</a>")
    assert page.base_href is None
    assert [link.target_url for link in page.links] == ["https://example.com/dir/x.html"]
    assert page.skipped_hrefs == [("javascript:void(0)", "base:invalid_url")]
