"""Link positions: HTML5 elements, ARIA roles, class/id names, nesting rules and overrides."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from ingest.config import SiteConfig
from ingest.crawl.positions import DEFAULT_RULES, LINK_CSS, PositionRules, classify_element


def positions(html: str, rules: PositionRules = DEFAULT_RULES) -> dict[str, str]:
    """{href: position} for every link of `html` (hrefs are unique in these snippets)."""
    tree = LexborHTMLParser(html, scripting=True)
    links = tree.css(LINK_CSS)
    found = rules.positions(tree, links)
    return {
        link.attributes["href"] or "": position for link, position in zip(links, found, strict=True)
    }


def test_html5_elements() -> None:
    got = positions(
        "<header><a href='/logo'>logo</a><nav><a href='/menu'>m</a></nav></header>"
        "<main><a href='/body'>b</a><aside><a href='/aside'>a</a></aside></main>"
        "<footer><a href='/legal'>l</a></footer><a href='/loose'>x</a>"
    )
    assert got == {
        "/logo": "header",
        "/menu": "nav",  # nearest classified ancestor: a nav inside the header is nav
        "/body": "content",
        "/aside": "sidebar",
        "/legal": "footer",
        "/loose": "content",  # no classified ancestor
    }


def test_aria_roles() -> None:
    got = positions(
        "<div role='banner'><a href='/h'>h</a></div><div role='navigation'><a href='/n'>n</a></div>"
        "<div role='main'><a href='/m'>m</a></div><div role='complementary'><a href='/s'>s</a></div>"
        "<div role='contentinfo'><a href='/f'>f</a></div>"
    )
    assert got == {"/h": "header", "/n": "nav", "/m": "content", "/s": "sidebar", "/f": "footer"}


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<nav aria-label='Breadcrumb'><a href='/x'>x</a></nav>", "breadcrumb"),
        ("<ol class='breadcrumb'><li><a href='/x'>x</a></li></ol>", "breadcrumb"),
        ("<ul class='breadcrumbs'><li><a href='/x'>x</a></li></ul>", "breadcrumb"),
        (
            "<div itemscope itemtype='https://schema.org/BreadcrumbList'><a href='/x'>x</a></div>",
            "breadcrumb",
        ),
        ("<p id='breadcrumbs'><span><a href='/x'>x</a></span></p>", "breadcrumb"),
        ("<div id='footer'><a href='/x'>x</a></div>", "footer"),
        ("<div class='site-footer'><a href='/x'>x</a></div>", "footer"),
        ("<div id='colophon'><a href='/x'>x</a></div>", "footer"),
        ("<div id='header'><a href='/x'>x</a></div>", "header"),
        ("<div id='masthead'><a href='/x'>x</a></div>", "header"),
        ("<div class='sidebar'><a href='/x'>x</a></div>", "sidebar"),
        ("<div class='widget'><a href='/x'>x</a></div>", "sidebar"),
        ("<ul class='menu'><li><a href='/x'>x</a></li></ul>", "nav"),
        ("<div class='navbar navbar-default'><a href='/x'>x</a></div>", "nav"),
        ("<div class='meta_navigation'><a href='/x'>x</a></div>", "nav"),
        ("<table><tr><td id='sidebar'><a href='/x'>x</a></td></tr></table>", "sidebar"),
        ("<table><tr><td id='footer'><a href='/x'>x</a></td></tr></table>", "footer"),
        ("<div class='elementor-widget'><a href='/x'>x</a></div>", "content"),
        ("<div class='sidebar-layout-wrapper'><a href='/x'>x</a></div>", "content"),
    ],
)
def test_class_id_and_attribute_names(markup: str, expected: str) -> None:
    assert positions(markup) == {"/x": expected}


def test_deep_breadcrumb_is_found_beyond_the_shallow_scan() -> None:
    deep = "<div>" * 12 + "<div class='breadcrumb'><a href='/x'>x</a></div>" + "</div>" * 12
    assert positions(deep) == {"/x": "breadcrumb"}


def test_sphinx_python_docs_layout() -> None:
    # The Python docs have no <nav>: role=navigation divs, div.related, div.sphinxsidebar.
    html = (
        "<div class='related' role='navigation' aria-label='related navigation'>"
        "<a href='genindex.html'>index</a></div>"
        "<div class='document'><div class='documentwrapper'><div class='bodywrapper'>"
        "<div class='body' role='main'><section><p><a href='os.html'>os</a></p></section></div>"
        "</div></div><div class='sphinxsidebar' role='navigation' aria-label='main navigation'>"
        "<div class='sphinxsidebarwrapper'><ul><li><a href='#toc'>toc</a></li></ul></div></div></div>"
        "<div class='related'><a href='next.html'>next</a></div>"
        "<div class='footer'><a href='copyright.html'>Copyright</a></div>"
    )
    assert positions(html) == {
        "genindex.html": "nav",
        "os.html": "content",
        "#toc": "sidebar",  # class sphinxsidebar beats role=navigation on the same element
        "next.html": "nav",  # old Sphinx: div.related without a role
        "copyright.html": "footer",
    }


def test_footer_is_sticky_for_menus_and_widgets_inside_it() -> None:
    got = positions(
        "<footer id='colophon'><aside class='widget'><a href='/w'>w</a></aside>"
        "<nav><ul class='menu'><li><a href='/m'>m</a></li></ul></nav>"
        "<nav aria-label='breadcrumb'><a href='/b'>b</a></nav></footer>"
    )
    assert got == {"/w": "footer", "/m": "footer", "/b": "footer"}


def test_breadcrumb_nav_inside_header_is_breadcrumb() -> None:
    got = positions(
        "<header><nav class='breadcrumb'><a href='/b'>b</a></nav><a href='/h'>h</a></header>"
    )
    assert got == {"/b": "breadcrumb", "/h": "header"}


def test_sectioning_content_owns_its_header_and_footer() -> None:
    got = positions(
        "<main><article><header><a href='/byline'>author</a></header><p><a href='/in'>in</a></p>"
        "<footer><a href='/tag'>tag</a><nav><a href='/next'>next</a></nav></footer></article></main>"
        "<aside><footer><a href='/more'>more</a></footer></aside>"
        "<section><header><a href='/sec'>s</a></header></section>"
        "<article><div class='header'><a href='/div-header'>d</a></div></article>"
        "<article><table class='header'><tr><td><a href='/table'>t</a></td></tr></table></article>"
    )
    assert got == {
        "/byline": "content",  # an article's own header is content
        "/in": "content",
        "/tag": "content",
        "/next": "nav",
        "/more": "sidebar",  # an aside's footer belongs to the aside
        "/sec": "content",
        "/div-header": "content",
        "/table": "content",
    }


def test_explicit_banner_role_counts_even_inside_sectioning_content() -> None:
    got = positions("<main><div role='banner'><a href='/b'>b</a></div></main>")
    assert got == {"/b": "header"}


def test_overrides_win_over_defaults_and_nearest_override_wins() -> None:
    rules = PositionRules.from_overrides(
        {"content": ["footer .cta"], "nav": ["#mega"], "sidebar": [".related-posts", ".ad-box"]}
    )
    got = positions(
        "<footer><a href='/legal'>legal</a><div class='cta'><a href='/cta'>buy</a>"
        "<nav><a href='/cta-nav'>n</a></nav></div></footer>"
        "<div id='mega'><aside><a href='/mega-aside'>a</a></aside><div class='ad-box'>"
        "<a href='/ad'>ad</a></div></div>"
        "<main><div class='related-posts'><a href='/rel'>r</a></div><a href='/main'>m</a></main>",
        rules,
    )
    assert got == {
        "/legal": "footer",
        "/cta": "content",  # override region inside a default footer
        "/cta-nav": "content",  # default regions inside an override region do not apply
        "/mega-aside": "nav",
        "/ad": "sidebar",  # nearest override region
        "/rel": "sidebar",
        "/main": "content",
    }


def test_override_rules_come_from_site_config() -> None:
    site = SiteConfig(
        id="shop",
        start_urls=("https://shop.example/",),
        positions={"breadcrumb": (".trail",), "footer": ("#bottom", "#legal")},
    )
    rules = PositionRules.from_overrides(site.positions)
    assert rules.overrides == (("breadcrumb", ".trail"), ("footer", "#bottom, #legal"))
    got = positions(
        "<div class='trail'><a href='/t'>t</a></div><div id='legal'><a href='/l'>l</a></div>", rules
    )
    assert got == {"/t": "breadcrumb", "/l": "footer"}


def test_invalid_override_selector_or_position_fails_at_config_time() -> None:
    with pytest.raises(ValueError, match="invalid CSS selector"):
        PositionRules.from_overrides({"nav": ["div[[["]})
    with pytest.raises(ValueError, match="unknown link position"):
        PositionRules.from_overrides({"menu": [".x"]})


def test_regions_report_boilerplate_and_main() -> None:
    tree = LexborHTMLParser(
        "<header><nav><a href='/n'>n</a></nav></header><div role='main'><p>text</p></div>"
        "<footer>(c)</footer>",
        scripting=True,
    )
    regions = DEFAULT_RULES.regions(tree)
    assert [regions.position_of(link) for link in tree.css(LINK_CSS)] == ["nav"]
    assert sorted(node.tag or "" for node in regions.boilerplate) == ["footer", "header"]
    assert regions.main is not None and regions.main.attributes["role"] == "main"


def test_classify_element_is_exposed_for_reuse() -> None:
    candidate = classify_element("div", {"class": "sphinxsidebar", "role": "navigation"})
    assert candidate is not None
    assert candidate.positions == ("sidebar", "nav")
    assert classify_element("p", {"class": "lead"}) is None
