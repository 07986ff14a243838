"""Where on a page a link sits: header, nav, breadcrumb, sidebar, content or footer.

Link equity models weight a link in the body of an article differently from the same link in a
sitewide menu, so every extracted link gets a position. The position comes from the nearest
classified ancestor of the link, with three refinements that match how sites are built:

* A footer is sticky: everything inside a site footer is `footer`, including the menus (`<nav>`,
  `ul.menu`) and widget `<aside>`s that WordPress-style footers are made of. Footer links are one
  sitewide block for SEO purposes, whatever their inner markup says.
* A `<header>`/`<footer>` (or a `.header`/`.footer` box) inside sectioning content (`article`,
  `aside`, `main`, `nav`, `section`, `role=main|article`) is that section's own header or
  footer, not the site's (the HTML-AAM rule for `banner`/`contentinfo`): it classifies nothing,
  so an article's own header is `content`. An explicit `role=banner|contentinfo` always counts.
* Per-site override selectors (`SiteConfig.positions`) beat the defaults: a link inside an override
  region takes the position of the nearest override region, whatever default regions lie between.
  Among override regions, and among default regions, the nearest one wins.

Classification (defaults): HTML5 elements (`header`, `nav`, `aside`, `footer`, `main`, `article`),
ARIA roles (`banner`, `navigation`, `complementary`, `contentinfo`, `main`), a curated list of
class/id names (`footer`, `site-header`, `masthead`, `navbar`, `menu`, `*-navigation`, `sidebar`,
`widget`, `sphinxsidebar`, `div.related`, ...) and anything whose class/id/aria-label/itemtype
says breadcrumb. Class/id names are matched as whole tokens, case-insensitively; header/footer
names only on container elements, so `table.header` in an article is not the site header.
Limit: class/id names are looked for in the top 7 levels of containers (at most 400 elements),
where site-wide regions live; element, role and breadcrumb regions are found at any depth. A
site whose regions hide deeper names them with override selectors.

Speed: lexbor tests every selector of a list against every node, so a query with a hundred class
selectors costs ~10x a link query, and a per-link ancestor walk in Python costs ~1 us per hop.
Instead regions are found cheaply (one short CSS query for elements and roles, which parse.py folds
into its own link query; a bounded breadth-first scan of the top container levels for class/id
names; a breadcrumb query only on pages whose bytes mention "crumb"), nested by walking up from
the few regions, and links are then scoped with one `region.css(links)` per region whose position
differs from its parent's. Per link that leaves one dict lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ingest.config import POSITIONS

# Same-node priority when one element matches several rules (e.g. Sphinx's
# `div.sphinxsidebar[role=navigation]` is a sidebar, `nav.breadcrumb` a breadcrumb).
_PRIORITY = ("breadcrumb", "footer", "header", "sidebar", "nav", "content")

_FOOTER_NAMES = frozenset(
    [
        "footer",
        "site-footer",
        "page-footer",
        "main-footer",
        "global-footer",
        "footer-wrapper",
        "footer-container",
        "footer-widgets",
        "footer-area",
        "footer-bottom",
        "footer-links",
        "footer-nav",
        "footer-menu",
        "colophon",
    ]
)
_HEADER_NAMES = frozenset(
    [
        "header",
        "site-header",
        "main-header",
        "global-header",
        "header-wrapper",
        "header-container",
        "masthead",
    ]
)  # not "top-bar": Foundation's `.top-bar` is the main navigation bar
_SIDEBAR_NAMES = frozenset(
    [
        "sidebar",
        "side-bar",
        "sidebar-left",
        "sidebar-right",
        "left-sidebar",
        "right-sidebar",
        "sidebar-primary",
        "sidebar-secondary",
        "sphinxsidebar",
        "widget",
        "widget-area",
        "sidenav",
    ]
)
_NAV_NAMES = frozenset(
    [
        "nav",
        "navbar",
        "navigation",
        "menu",
        "menubar",
        "main-menu",
        "main-nav",
        "main-navigation",
        "site-nav",
        "site-navigation",
        "site-menu",
        "primary-menu",
        "primary-nav",
        "primary-navigation",
        "global-nav",
        "top-nav",
        "topnav",
        "top-menu",
        "nav-menu",
        "mega-menu",
        "megamenu",
        "mainmenu",
        "mainnav",
    ]
)
_NAV_SUFFIXES = ("navigation", "-nav", "_nav", "-menu", "_menu", "navbar")
# token -> (position, cancellable by a sectioning ancestor)
_NAME_POSITION: dict[str, tuple[str, bool]] = {}
for _names, _position, _cancellable in (
    (_NAV_NAMES, "nav", False),
    (_SIDEBAR_NAMES, "sidebar", False),
    (_HEADER_NAMES, "header", True),
    (_FOOTER_NAMES, "footer", True),
):
    for _name in _names:
        _NAME_POSITION[_name] = (_position, _cancellable)

_TAG_POSITION = {
    "header": "header",
    "footer": "footer",
    "aside": "sidebar",
    "nav": "nav",
    "main": "content",
    "article": "content",
}
_ROLE_POSITION = {
    "banner": "header",
    "contentinfo": "footer",
    "complementary": "sidebar",
    "navigation": "nav",
    "menubar": "nav",
    "main": "content",
    "article": "content",
}
# Elements whose own <header>/<footer> is not the site's (HTML-AAM).
_SECTIONING_TAGS = frozenset({"article", "aside", "main", "nav", "section"})
_SECTIONING_ROLES = frozenset({"main", "article"})
# Class/id names mark page regions only on container elements; `table.header` or
# `ul.star-rating.header` inside an article are not the site header.
_CONTAINER_TAGS = frozenset(
    {
        "div",
        "section",
        "header",
        "footer",
        "nav",
        "aside",
        "ul",
        "ol",
        "menu",
        "main",
        "article",
        "td",
    }
)
_NEVER_REGIONS = frozenset({"html", "body", "head", "a", "area", "-document", "-text"})

LINK_CSS = "a[href], area[href]"
# Regions found by one cheap CSS query (element names and any role); class/id-named regions come
# from a shallow scan, breadcrumbs from _BREADCRUMB_CSS on pages that mention one.
REGION_CSS = "header, nav, aside, footer, main, article, [role]"
_BREADCRUMB_CSS = (
    "[class*=breadcrumb], [class*=Breadcrumb], [id*=breadcrumb], [itemtype*=BreadcrumbList]"
)


class Candidate(NamedTuple):
    """What one element says about itself, before its ancestors are known."""

    positions: tuple[str, ...]  # matching default positions, best first
    scoped: frozenset[str]  # of those, header/footer that a sectioning ancestor cancels
    sectioning: bool  # starts sectioning content for its descendants


class _State(NamedTuple):
    """Resolved context of a region: the position its descendants inherit."""

    position: str
    in_override: bool
    in_footer: bool


_ROOT_STATE = _State("content", False, False)
_NOT_CLASSIFIED = Candidate((), frozenset(), False)
_classify_memo: dict[tuple[str, tuple[tuple[str, str | None], ...]], Candidate | None] = {}


def classify_element(tag: str, attrs: Mapping[str, str | None]) -> Candidate | None:
    """Default positions one element matches, from its tag, ARIA role and class/id names.

    Returns None for elements that neither classify nor start sectioning content.
    """
    if tag in _NEVER_REGIONS:
        return None
    matched: dict[str, bool] = {}  # position -> only cancellable rules matched it

    def add(position: str, cancellable: bool) -> None:
        matched[position] = matched.get(position, True) and cancellable

    role = ""
    if attrs:
        role = (attrs.get("role") or "").strip().lower()
        names = (attrs.get("class") or "").lower().split()
        ident = (attrs.get("id") or "").strip().lower()
        if ident:
            names.append(ident)
        if _is_breadcrumb(attrs, names):
            add("breadcrumb", False)
        if role in _ROLE_POSITION:
            add(_ROLE_POSITION[role], False)
        container = tag in _CONTAINER_TAGS
        for name in names:
            hit = _NAME_POSITION.get(name)
            if hit is not None and (container or not hit[1]):
                add(*hit)
            elif name.endswith(_NAV_SUFFIXES):  # meta_navigation, mobile-nav, dropdown-menu
                add("nav", False)
        if tag == "div" and "related" in names:  # Sphinx's top/bottom navigation bars
            add("nav", False)
    if tag in _TAG_POSITION:
        add(_TAG_POSITION[tag], True)
    sectioning = tag in _SECTIONING_TAGS or role in _SECTIONING_ROLES
    if not matched and not sectioning:
        return None
    positions = tuple(p for p in _PRIORITY if p in matched)
    scoped = frozenset(p for p in positions if p in ("header", "footer") and matched[p])
    return Candidate(positions, scoped, sectioning)


def _classify_memoized(tag: str, attrs: dict[str, str | None]) -> Candidate | None:
    """classify_element memoized on the element's tag and attributes (pages repeat markup)."""
    key = (tag, tuple(attrs.items())) if attrs else (tag, ())
    hit = _classify_memo.get(key, _NOT_CLASSIFIED)
    if hit is _NOT_CLASSIFIED:
        if len(_classify_memo) > 50_000:
            _classify_memo.clear()
        hit = _classify_memo[key] = classify_element(tag, attrs)
    return hit


def _is_breadcrumb(attrs: Mapping[str, str | None], names: list[str]) -> bool:
    if any("breadcrumb" in name for name in names):
        return True
    if "breadcrumb" in (attrs.get("aria-label") or "").lower():
        return True
    return "breadcrumblist" in (attrs.get("itemtype") or "").lower()


@dataclass(slots=True)
class PageRegions:
    """Where a page's links sit, plus what text extraction needs to skip boilerplate."""

    by_link: dict[int, str]  # mem_id of each link inside a classified region -> its position
    # Non-content regions whose parent region is content, shallowest first. They can nest (an
    # override `content` box inside a footer may hold a nav): remove them deepest first.
    boilerplate: list[LexborNode]
    main: LexborNode | None  # override `content` region, first main/[role=main], sole article

    def position_of(self, link: LexborNode) -> str:
        """Position of one link node of the page (content when no region claims it)."""
        return self.by_link.get(link.mem_id, "content") if self.by_link else "content"


@dataclass(frozen=True)
class PositionRules:
    """Default position rules plus per-site override selectors (which win over the defaults).

    Immutable and page-independent: build it once per site and share it across threads.
    """

    overrides: tuple[tuple[str, str], ...] = ()  # (position, css selector list)

    def __post_init__(self) -> None:
        for position, selector in self.overrides:
            if position not in POSITIONS:
                raise ValueError(f"unknown link position {position!r} (known: {POSITIONS})")
            _check_selector(selector)

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Iterable[str]] | None = None) -> PositionRules:
        """Rules from `SiteConfig.positions` ({position: (css selectors, ...)})."""
        items: list[tuple[str, str]] = []
        for position, selectors in (overrides or {}).items():
            cleaned = [s.strip() for s in selectors if s and s.strip()]
            if cleaned:
                items.append((position, ", ".join(cleaned)))
        return cls(tuple(items))

    def regions(
        self,
        tree: LexborHTMLParser,
        region_nodes: Sequence[LexborNode] | None = None,
        html: bytes | str | None = None,
    ) -> PageRegions:
        """Find and classify the page's regions; PageRegions.position_of() places each link.

        `region_nodes` are the matches of REGION_CSS in document order when the caller has
        already run that selector as part of its own query (saves a tree walk); `html` is the
        raw document, used to skip the breadcrumb query on pages that never mention one.
        """
        if region_nodes is None:
            region_nodes = tree.css(REGION_CSS)
        return _Locator(self, tree, region_nodes, html).locate()

    def positions(self, tree: LexborHTMLParser, links: Sequence[LexborNode]) -> list[str]:
        """The positions of `links` (nodes of `tree`), in the same order."""
        regions = self.regions(tree)
        return [regions.position_of(link) for link in links]


DEFAULT_RULES = PositionRules()


def _check_selector(selector: str) -> None:
    """Fail at config time, with the selector in the message, rather than on every page."""
    try:
        LexborHTMLParser("<p></p>").css(selector)
    except Exception as exc:  # selectolax raises its own error types for bad selectors
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc


def _tag_ids(*names: str) -> frozenset[int]:
    """lexbor's numeric tag ids (comparing ints is cheaper than reading `.tag` strings)."""
    factory = LexborHTMLParser("")
    return frozenset(factory.create_node(name).tag_id for name in names)


_SECTIONING_TAG_IDS = _tag_ids(*_SECTIONING_TAGS)
# Containers the shallow scan for class/id-named regions looks at, and those it descends into.
# Old table layouts put `td#header`/`td#sidebar` in body > table > tbody > tr.
_LAYOUT_TAGS = ("form", "center", "table", "tbody", "tr", "td")
_SCAN_TAG_IDS = _tag_ids(*_CONTAINER_TAGS, *_LAYOUT_TAGS)
_DESCEND_TAG_IDS = _tag_ids("div", "header", "footer", "nav", "aside", "main", *_LAYOUT_TAGS)
_SCAN_MAX_DEPTH = 7
_SCAN_MAX_NODES = 400


class _Info(NamedTuple):
    """Where a node sits relative to the regions above it (inclusive of itself)."""

    depth: int
    region: int  # mem_id of the nearest region at or above the node, 0 for none
    sectioning: bool  # some element at or above the node starts sectioning content


class _Locator:
    """One page: collect regions, nest them, resolve their states, scope links to them."""

    def __init__(
        self,
        rules: PositionRules,
        tree: LexborHTMLParser,
        region_nodes: Sequence[LexborNode],
        html: bytes | str | None,
    ) -> None:
        self.tree = tree
        self.order: list[LexborNode] = []  # default regions in document order (for `main`)
        self.nodes: dict[int, LexborNode] = {}
        self.candidates: dict[int, Candidate] = {}
        self.overrides: dict[int, str] = {}
        self.override_main: LexborNode | None = None
        for node in region_nodes:
            self._add_candidate(node, in_order=True)
        if html is None or ("crumb" in html if isinstance(html, str) else b"crumb" in html):
            for node in tree.css(_BREADCRUMB_CSS):
                self._add_candidate(node)
        if tree.body is not None:
            self._scan_named(tree.body)
        self._add_overrides(rules)
        self.info: dict[int, _Info] = {}

    def _add_candidate(self, node: LexborNode, in_order: bool = False) -> None:
        key = node.mem_id
        if key in self.candidates:
            return
        candidate = _classify_memoized(node.tag or "", node.attributes)
        if candidate is not None:
            self.candidates[key] = candidate
            self.nodes[key] = node
            if in_order:
                self.order.append(node)

    def _scan_named(self, body: LexborNode) -> None:
        """Breadth-first over the top container levels for class/id-named regions.

        Site-wide regions (`div#header`, `div.footer`, `div.sidebar`) sit near the top of the
        tree; scanning a bounded number of shallow containers in Python is far cheaper than
        asking lexbor to test dozens of class selectors against every node.
        """
        frontier = [body]
        seen = 0
        for _ in range(_SCAN_MAX_DEPTH):
            deeper: list[LexborNode] = []
            for parent in frontier:
                for node in parent.iter():
                    tag_id = node.tag_id
                    if tag_id not in _SCAN_TAG_IDS:
                        continue
                    seen += 1
                    if seen > _SCAN_MAX_NODES:
                        return
                    attrs = node.attributes
                    if "class" in attrs or "id" in attrs:
                        self._add_candidate(node)
                    if tag_id in _DESCEND_TAG_IDS:
                        deeper.append(node)
            if not deeper:
                return
            frontier = deeper

    def _add_overrides(self, rules: PositionRules) -> None:
        for position, selector in rules.overrides:
            for node in self.tree.css(selector):
                key = node.mem_id
                known = self.overrides.get(key)
                if known is None or _PRIORITY.index(position) < _PRIORITY.index(known):
                    self.overrides[key] = position
                self.nodes.setdefault(key, node)
                if position == "content" and self.override_main is None:
                    self.override_main = node

    def _info(self, node: LexborNode | None) -> _Info:
        """_Info of `node`, walking up to the first already-known ancestor."""
        chain: list[tuple[int, LexborNode]] = []
        info = _Info(0, 0, False)
        while node is not None:
            key = node.mem_id
            known = self.info.get(key)
            if known is not None:
                info = known
                break
            chain.append((key, node))
            node = node.parent
        nodes, candidates = self.nodes, self.candidates
        for key, element in reversed(chain):
            candidate = candidates.get(key)
            sectioning = info.sectioning or element.tag_id in _SECTIONING_TAG_IDS
            if candidate is not None and candidate.sectioning:
                sectioning = True
            info = _Info(info.depth + 1, key if key in nodes else info.region, sectioning)
            self.info[key] = info
        return info

    def locate(self) -> PageRegions:
        # Nest the regions: the nearest region above each one, and whether a sectioning element
        # lies above it (which cancels a tag- or class-derived header/footer).
        placed: list[tuple[int, int, int, bool]] = []  # (depth, key, parent region, in_section)
        for key, node in self.nodes.items():
            above = self._info(node.parent)
            placed.append((above.depth + 1, key, above.region, above.sectioning))
        placed.sort()
        states: dict[int, _State] = {}
        assigned: dict[int, str] = {}
        boilerplate: list[LexborNode] = []
        for _, key, parent_key, in_section in placed:
            parent_state = states.get(parent_key, _ROOT_STATE)
            state = _next_state(
                parent_state, self.candidates.get(key), self.overrides.get(key), in_section
            )
            states[key] = state
            if state.position == parent_state.position:
                continue  # its links already carry the inherited position
            node = self.nodes[key]
            if parent_state.position == "content":
                boilerplate.append(node)
            for link in node.css(LINK_CSS):
                assigned[link.mem_id] = state.position
        return PageRegions(assigned, boilerplate, self._main(states))

    def _main(self, states: dict[int, _State]) -> LexborNode | None:
        if self.override_main is not None:
            return self.override_main
        articles: list[LexborNode] = []
        for node in self.order:
            key = node.mem_id
            if states[key].position != "content":
                continue
            tag = node.tag
            if tag == "main" or (node.attributes.get("role") or "").strip().lower() == "main":
                return node
            if tag == "article":
                articles.append(node)
        return articles[0] if len(articles) == 1 else None


def _next_state(
    parent: _State, candidate: Candidate | None, override: str | None, in_section: bool
) -> _State:
    """The state a region passes to its descendants, given the state it inherits."""
    if override is not None:
        return _State(override, True, parent.in_footer)
    if parent.in_override or parent.in_footer or candidate is None:
        return parent
    for position in candidate.positions:
        if in_section and position in candidate.scoped:
            continue  # an article's or section's own header/footer: not the site's
        return _State(position, False, position == "footer")
    return parent
