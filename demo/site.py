"""A deterministic demo shop: its pages, their HTML, and the ground truth a crawler must find.

Why it exists: the crawler, the parser and the warehouse are tested against a site whose every
link, redirect, canonical and robots rule is known in advance, so a test can compare a crawl with
the truth exactly instead of "looks plausible". Everything here is pure Python and seeded, so the
same seed renders byte-identical pages.

How it is built: `build_demo_site` makes the catalogue (categories, products, posts, guides) and
one `_Spec` per URL up front (cheap). The HTML of a page is built lazily the first time it is asked
for, as a `_Doc` that records the HTML *and* the links it wrote, so the ground truth is the very
structure the HTML was rendered from. Hrefs are stored as written; absolute ones carry the `BASE`
sentinel that is replaced by the serving base URL at response time, because ports are dynamic.

Page keys are `path[?query]` strings (`/p/x/`, `/p/x/?color=red`, `/c/a/b/?page=2`); the public
API turns them into absolute URLs with the current `DemoSite.base_url`.
"""

from __future__ import annotations

import gzip
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from html import escape
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

BASE = "\x00"
"""Sentinel for the base URL inside written hrefs; replaced by the serving base URL on render."""

_FAKE_ORIGIN = "http://demo.invalid"
POSITIONS = ("header", "nav", "breadcrumb", "sidebar", "content", "footer")
HTML_UTF8 = "text/html; charset=utf-8"
HTML_CP1252 = "text/html; charset=windows-1252"
ROBOTS_DISALLOWED_PREFIXES = ("/cart/", "/checkout/", "/account/")
PRODUCTS_PER_PAGE = 24
POSTS_PER_PAGE = 10


# ---------------------------------------------------------------------------------------------
# Public records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoLink:
    """One `<a href>` of a page as a crawler must record it.

    `target` is normalized and absolute (no fragment, no utm_*/gclid/fbclid, lowercase host);
    `anchor_text` is the whitespace-collapsed visible text, or the img alt for an image link.
    """

    target: str
    anchor_text: str
    position: str
    is_nofollow: bool
    is_ugc: bool
    is_sponsored: bool
    is_image: bool
    is_internal: bool


@dataclass(frozen=True, slots=True)
class DemoPage:
    """What the server answers for one URL, and the SEO facts planted on it."""

    path: str
    url: str
    kind: str
    status: int
    content_type: str
    redirect_target: str | None
    canonical: str | None
    canonical_source: str | None  # "html" | "header" | None
    is_noindex: bool
    noindex_source: str | None  # "meta" | "header" | None
    robots_disallowed: bool
    in_sitemap: bool
    is_orphan: bool


@dataclass(frozen=True, slots=True)
class DemoResponse:
    """Status, headers and body bytes for one request; the server writes them as they are."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


# ---------------------------------------------------------------------------------------------
# URL helpers (kept in step with ingest.urls.normalize_url for the URLs this site writes)
# ---------------------------------------------------------------------------------------------


def _is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in ("gclid", "fbclid")


def normalize_demo_url(url: str) -> str:
    """Lowercase scheme and host, drop the fragment and tracking parameters, keep the rest."""
    parts = urlsplit(url)
    query = "&".join(
        p for p in parts.query.split("&") if p and not _is_tracking_param(p.split("=", 1)[0])
    )
    path = parts.path or "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}" + (f"?{query}" if query else "")


def _resolve(base_key: str, href: str) -> tuple[str, bool]:
    """Resolve a written href against a page key: (key for internal, absolute URL for external).

    Root-relative hrefs do not depend on the page, so they are cached on the href alone; the
    ~100k links of the site resolve in a few hundred milliseconds that way.
    """
    if href.startswith("/") and not href.startswith("//"):
        return _resolve_absolute(_FAKE_ORIGIN + href)
    if href.startswith(BASE):
        return _resolve_absolute(_FAKE_ORIGIN + href[1:])
    if href.startswith(("http://", "https://")):
        return _resolve_absolute(href)
    return _resolve_absolute(urljoin(_FAKE_ORIGIN + base_key, href))


@lru_cache(maxsize=65_536)
def _resolve_absolute(absolute: str) -> tuple[str, bool]:
    normalized = normalize_demo_url(absolute)
    if normalized.startswith(_FAKE_ORIGIN + "/"):
        return normalized[len(_FAKE_ORIGIN) :], True
    return normalized, False


def is_robots_disallowed(key: str) -> bool:
    """The site's robots.txt rules for `User-agent: *` (plain prefixes, as protego reads them)."""
    return key.startswith(ROBOTS_DISALLOWED_PREFIXES)


def _slugify(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(filter(None, out.split("-")))


# ---------------------------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------------------------

_CATALOG: tuple[tuple[str, str, tuple[tuple[str, str, tuple[str, ...]], ...]], ...] = (
    ("women", "Women", (
        ("dresses", "Dresses", ("Dress", "Maxi Dress", "Wrap Dress")),
        ("tops", "Tops & Blouses", ("Blouse", "T-Shirt", "Camisole")),
        ("jeans", "Jeans", ("Skinny Jeans", "Straight Jeans", "Mom Jeans")),
        ("jackets", "Coats & Jackets", ("Trench Coat", "Denim Jacket", "Puffer Jacket")),
    )),
    ("men", "Men", (
        ("shirts", "Shirts", ("Oxford Shirt", "Flannel Shirt", "Polo Shirt")),
        ("trousers", "Trousers", ("Chinos", "Cargo Trousers", "Suit Trousers")),
        ("jackets", "Jackets", ("Bomber Jacket", "Parka", "Blazer")),
        ("knitwear", "Knitwear", ("Jumper", "Cardigan", "Hoodie")),
    )),
    ("kids", "Kids", (
        ("girls", "Girls", ("Party Dress", "Leggings", "Party Top")),
        ("boys", "Boys", ("Shorts", "Rugby Shirt", "Joggers")),
        ("baby", "Baby", ("Bodysuit", "Romper", "Sleepsuit")),
        ("school", "School Uniform", ("School Shirt", "Pinafore", "School Jumper")),
    )),
    ("shoes", "Shoes", (
        ("sneakers", "Sneakers", ("Trainers", "Canvas Sneakers", "High-Tops")),
        ("boots", "Boots", ("Chelsea Boots", "Hiking Boots", "Ankle Boots")),
        ("sandals", "Sandals", ("Slides", "Espadrilles", "Strappy Sandals")),
        ("formal", "Formal Shoes", ("Brogues", "Loafers", "Derby Shoes")),
    )),
    ("accessories", "Accessories", (
        ("bags", "Bags", ("Tote Bag", "Backpack", "Crossbody Bag")),
        ("belts", "Belts", ("Leather Belt", "Woven Belt", "Reversible Belt")),
        ("hats", "Hats", ("Beanie", "Bucket Hat", "Fedora")),
        ("scarves", "Scarves", ("Silk Scarf", "Wool Scarf", "Snood")),
    )),
    ("home", "Home & Living", (
        ("bedding", "Bedding", ("Duvet Cover", "Pillowcase Set", "Throw")),
        ("kitchen", "Kitchen", ("Mug Set", "Tea Towel", "Apron")),
        ("decor", "Decor", ("Vase", "Cushion", "Candle")),
        ("bath", "Bath", ("Bath Towel", "Bath Mat", "Robe")),
    )),
    ("sports", "Sports", (
        ("running", "Running", ("Running Tights", "Running Vest", "Running Jacket")),
        ("yoga", "Yoga", ("Yoga Mat", "Yoga Leggings", "Sports Bra")),
        ("cycling", "Cycling", ("Cycling Jersey", "Bib Shorts", "Cycling Gloves")),
        ("outdoor", "Outdoor", ("Fleece", "Rain Jacket", "Trekking Trousers")),
    )),
    ("beauty", "Beauty", (
        ("skincare", "Skincare", ("Face Cream", "Serum", "Cleanser")),
        ("makeup", "Makeup", ("Lipstick", "Mascara", "Foundation")),
        ("fragrance", "Fragrance", ("Eau de Parfum", "Body Mist", "Cologne")),
        ("haircare", "Haircare", ("Shampoo", "Conditioner", "Hair Oil")),
    )),
)  # fmt: skip

_LINES = ("Aurora", "Harbor", "Meadow", "Summit", "Willow", "Coral", "Ember", "Fjord", "Sierra",
          "Tundra", "Juniper", "Saffron", "Cobalt", "Linden", "Maple")  # fmt: skip
_ADJECTIVES = ("Classic", "Essential", "Organic", "Vintage", "Everyday", "Premium", "Relaxed",
               "Slim", "Lightweight", "Heritage", "Urban", "Coastal")  # fmt: skip
_COLOURS = ("red", "blue", "black", "green", "navy", "beige", "white", "grey")
_TAGS = ("style", "trends", "care", "sustainability", "gifts", "behind-the-seams", "how-to",
         "seasonal", "footwear", "home", "fitness", "beauty")  # fmt: skip
_POST_TITLES = (
    "How to style {sub} this {season}",
    "{n} {sub} trends for {year}",
    "The ultimate guide to {sub}",
    "{Sub}: what our customers love",
    "Care tips for your {noun}",
    "Behind the seams: the {line} {noun}",
)
_FIXED_GUIDES = (
    ("size-guide", "Size guide"),
    ("how-to-measure-yourself", "How to measure yourself"),
    ("fabric-care-guide", "Fabric care guide"),
    ("gift-guide", "Gift guide"),
    ("sustainability-guide", "Sustainability guide"),
    ("shoe-fitting-guide", "Shoe fitting guide"),
    ("travel-packing-list", "Travel packing list"),
    ("returns-made-easy", "Returns made easy"),
)
_SEARCHES = ("boots", "dress", "gift-ideas")
_STATIC = (("about", "About us"), ("contact", "Contact"), ("shipping", "Shipping"),
           ("returns", "Returns"))  # fmt: skip
_NOT_FOUND = ("/p/discontinued-xyz/", "/p/old-model-2019/", "/blog/2019/01/deleted-post/")
OLD_SALE, PROMO, SUMMER_SALE, LOOP_A, LOOP_B = (
    "/old-sale/", "/promo/", "/summer-sale/", "/loop-a/", "/loop-b/",
)  # fmt: skip
SLASHLESS_CONTACT = "/contact"
LEGACY_PAGE = "/legacy/cafe-creme.html"
PDFS = {"/media/size-guide.pdf": "Size guide", "/media/returns-form.pdf": "Returns form"}
SITEMAP_INDEX = "/sitemap_index.xml"
SITEMAP_CHILDREN = ("/sitemap-products.xml.gz", "/sitemap-pages.xml", "/sitemap-blog.xml")
# Listed by robots.txt beside the index (the index keeps its three children). They only list
# URLs the children list too, so `sitemap_urls()` is the same set either way.
SITEMAP_HREFLANG = "/sitemap-hreflang.xml"  # served as text/html: a misconfigured server
SITEMAP_IMAGES = "/sitemap-images.xml"
SITEMAP_EXTRAS = (SITEMAP_HREFLANG, SITEMAP_IMAGES)
_LASTMOD = "2024-06-30"
# Planted sitemap problems (see DemoSite.expected_sitemap_findings).
STALE_LASTMOD_PAGE = "/shipping/"
STALE_LASTMOD = "2019-03-01"  # more than STALE_LASTMOD_DAYS before the newest lastmod
STALE_LASTMOD_DAYS = 730
INVALID_LASTMOD_POST_INDEX = 5
INVALID_LASTMOD = "2024-02-30"  # no such day: kept raw, flagged invalid
ROBOTS_BLOCKED_IN_SITEMAP = "/cart/"
HREFLANG_PAGES = ("/", "/about/", "/contact/", "/shipping/", "/returns/")
HREFLANG_MISSING_PREFIX = "/de"  # German alternates are listed but the shop has none (404)


@dataclass(slots=True, eq=False)
class _Sub:
    cat_slug: str
    cat_name: str
    slug: str
    name: str
    nouns: tuple[str, ...]
    products: list[_Product] = field(default_factory=list)
    posts: list[_Post] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/c/{self.cat_slug}/{self.slug}/"

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.products) // PRODUCTS_PER_PAGE))

    def page_key(self, page: int) -> str:
        return self.path if page == 1 else f"{self.path}?page={page}"


@dataclass(slots=True, eq=False)
class _Product:
    slug: str
    name: str
    sub: _Sub
    price_cents: int
    colours: tuple[str, ...]
    is_orphan: bool

    @property
    def path(self) -> str:
        return f"/p/{self.slug}/"


@dataclass(slots=True, eq=False)
class _Post:
    index: int
    slug: str
    title: str
    published: date
    sub: _Sub
    tags: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"/blog/{self.slug}/"


@dataclass(slots=True, eq=False)
class _Guide:
    index: int
    slug: str
    title: str
    sub: _Sub | None

    @property
    def path(self) -> str:
        return f"/guides/{self.slug}/"


@dataclass(slots=True)
class _Spec:
    """Server-side facts of one URL; `data` is the catalogue object the page is about."""

    key: str
    kind: str
    status: int = 200
    content_type: str = HTML_UTF8
    location: str | None = None  # as sent in the Location header (may hold BASE)
    canonical: str | None = None  # key of the canonical page
    canonical_source: str | None = None
    noindex_source: str | None = None
    in_sitemap: bool = False
    is_orphan: bool = False
    data: object = None


class _Link(NamedTuple):
    """A link as written into the HTML, plus its resolved target (a tuple: ~100k are made)."""

    href: str
    text: str
    position: str
    rel: str
    is_image: bool
    target: str  # key for internal links, absolute URL for external ones
    is_internal: bool

    def demo_link(self, base_url: str) -> DemoLink:
        rel = self.rel.lower().split()
        return DemoLink(
            target=base_url + self.target if self.is_internal else self.target,
            anchor_text=self.text,
            position=self.position,
            is_nofollow="nofollow" in rel,
            is_ugc="ugc" in rel,
            is_sponsored="sponsored" in rel,
            is_image=self.is_image,
            is_internal=self.is_internal,
        )


@lru_cache(maxsize=65_536)
def _a_html(href: str, text: str, rel: str, img: str, attrs: str, inner: str) -> str:
    head = f'<a href="{escape(href)}"'
    if rel:
        head += f' rel="{rel}"'
    if attrs:
        head += " " + attrs
    if img:
        body = f'<img src="{img}" alt="{escape(text)}" loading="lazy">'
    else:
        body = inner or escape(text, quote=False)
    return f"{head}>{body}</a>"


class _Doc:
    """HTML under construction that remembers every link it writes, in document order."""

    __slots__ = ("_base_key", "links", "parts")

    def __init__(self, key: str) -> None:
        self._base_key = key
        self.parts: list[str] = []
        self.links: list[_Link] = []

    def set_base_href(self, href: str) -> None:
        """Record a `<base href>` (written by the caller): later relative hrefs resolve against it."""
        self._base_key = _resolve(self._base_key, href)[0]

    def raw(self, html: str) -> None:
        self.parts.append(html)

    def extend(self, fragment: _Doc) -> None:
        """Append a pre-built fragment whose hrefs do not depend on the page (site chrome)."""
        self.parts.extend(fragment.parts)
        self.links.extend(fragment.links)

    def a(
        self,
        position: str,
        href: str,
        text: str,
        *,
        rel: str = "",
        img: str = "",
        attrs: str = "",
        inner: str = "",
    ) -> None:
        """Write `<a>`; `img` makes an image link (text is its alt), `inner` custom inner HTML.

        `inner` must render to exactly `text` once whitespace is collapsed: the self-check test
        parses every page and holds the generator to that.
        """
        target, internal = _resolve(self._base_key, href)
        self.links.append(_Link(href, text, position, rel, bool(img), target, internal))
        self.parts.append(_a_html(href, text, rel, img, attrs, inner))

    def html(self) -> str:
        return "".join(self.parts)


# ---------------------------------------------------------------------------------------------
# The site
# ---------------------------------------------------------------------------------------------


class DemoSite:
    """The demo shop: page inventory, lazy HTML, server responses and ground truth.

    `base_url` (e.g. `http://127.0.0.1:8765`) is set by the server that serves the site; every
    ground-truth method builds absolute URLs from it on demand, so the truth follows the port.
    """

    def __init__(self, seed: int = 7, base_url: str = "http://127.0.0.1:8765") -> None:
        self.seed = seed
        self.base_url = base_url
        rng = random.Random(seed)
        self._subs: list[_Sub] = []
        self._products: list[_Product] = []
        self._posts: list[_Post] = []
        self._guides: list[_Guide] = []
        self._specs: dict[str, _Spec] = {}
        self._docs: dict[str, _Doc] = {}
        self._responses: dict[tuple[str, str], DemoResponse] = {}
        self._graph: tuple[dict[str, int], set[str]] | None = None
        self._demo_links: dict[str, dict[_Link, DemoLink]] = {}
        self._make_catalogue(rng)
        self._make_specs()

    # -- base URL -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        parts = urlsplit(value)
        self._base_url = f"{parts.scheme.lower()}://{parts.netloc.lower()}"

    def url(self, path: str) -> str:
        """Absolute URL of a site path (`/p/x/` -> `http://127.0.0.1:PORT/p/x/`)."""
        return self._base_url + path

    def path_of(self, url: str) -> str:
        """Inverse of `url`: the site key (`path[?query]`) of an absolute URL on this site."""
        if url.startswith(self._base_url):
            return url[len(self._base_url) :] or "/"
        if url.startswith("/"):
            return url
        raise ValueError(f"{url!r} is not on {self._base_url}")

    # -- catalogue ------------------------------------------------------------------------------

    def _make_catalogue(self, rng: random.Random) -> None:
        def unique(slug: str, used: set[str]) -> str:
            candidate, n = slug, 2
            while candidate in used:
                candidate, n = f"{slug}-{n}", n + 1
            used.add(candidate)
            return candidate

        product_slugs: set[str] = set()
        post_slugs: set[str] = set()

        for cat_slug, cat_name, subs in _CATALOG:
            for slug, name, nouns in subs:
                self._subs.append(_Sub(cat_slug, cat_name, slug, name, nouns))
        for sub_index, sub in enumerate(self._subs):
            # The first product of each of the last 20 subcategories is an orphan (sitemap only).
            orphan_slot = 0 if sub_index >= len(self._subs) - 20 else -1
            for i in range(rng.randint(24, 70) + 1):
                name = f"{rng.choice(_LINES)} {rng.choice(_ADJECTIVES)} {rng.choice(sub.nouns)}"
                colours = (
                    tuple(rng.sample(_COLOURS, rng.randint(2, 3))) if rng.random() < 0.15 else ()
                )
                orphan = i == orphan_slot
                slug = unique(_slugify(name), product_slugs)
                product = _Product(slug, name, sub, rng.randint(999, 19999), colours, orphan)
                if orphan:
                    product.colours = ()
                else:
                    sub.products.append(product)
                self._products.append(product)
        self._listed = [p for p in self._products if not p.is_orphan]
        start = date(2024, 6, 30)
        for i in range(200):
            sub = rng.choice(self._subs)
            title = rng.choice(_POST_TITLES).format(
                sub=sub.name.lower(),
                Sub=sub.name,
                season=rng.choice(("spring", "summer", "autumn", "winter")),
                n=rng.randint(5, 12),
                year=2024,
                noun=rng.choice(sub.nouns).lower(),
                line=rng.choice(_LINES),
            )
            tags = tuple(sorted(rng.sample(_TAGS, rng.randint(1, 3)), key=_TAGS.index))
            slug = unique(_slugify(title), post_slugs)
            post = _Post(i, slug, title, start - timedelta(days=2 * i), sub, tags)
            self._posts.append(post)
            sub.posts.append(post)
        for i, (slug, title) in enumerate(_FIXED_GUIDES):
            self._guides.append(_Guide(i, slug, title, None))
        for sub in self._subs:
            title = f"Buying guide: {sub.name} ({sub.cat_name})"
            self._guides.append(
                _Guide(len(self._guides), f"buying-guide-{sub.cat_slug}-{sub.slug}", title, sub)
            )
        self._featured = rng.sample(self._listed, 12)
        self._popular_posts = sorted(rng.sample(self._posts, 5), key=lambda p: p.index)

    def _add(self, spec: _Spec) -> None:
        assert spec.key not in self._specs, spec.key
        self._specs[spec.key] = spec

    def _make_specs(self) -> None:
        add = self._add
        self._sitemap_variant: str | None = None
        add(_Spec("/", "home", canonical="/", in_sitemap=True))
        for cat, _name in _CATEGORIES:
            add(_Spec(f"/c/{cat}/", "category", canonical=f"/c/{cat}/", in_sitemap=True, data=cat))
        for sub in self._subs:
            for page in range(1, sub.pages + 1):
                key = sub.page_key(page)
                kind = "subcategory" if page == 1 else "listing"
                add(_Spec(key, kind, canonical=key, in_sitemap=page == 1, data=(sub, page)))
        for product in self._products:
            add(_Spec(product.path, "product", canonical=product.path, in_sitemap=True,
                      is_orphan=product.is_orphan, data=product))  # fmt: skip
            for colour in product.colours:
                key = f"{product.path}?color={colour}"
                planted = self._sitemap_variant is None  # the first variant is listed by mistake
                if planted:
                    self._sitemap_variant = key
                add(_Spec(key, "variant", canonical=product.path, in_sitemap=planted,
                          data=(product, colour)))  # fmt: skip
        pages = -(-len(self._posts) // POSTS_PER_PAGE)
        for page in range(1, pages + 1):
            key = "/blog/" if page == 1 else f"/blog/page/{page}/"
            add(_Spec(key, "blog_index", canonical=key, in_sitemap=page == 1, data=page))
        for post in self._posts:
            add(_Spec(post.path, "blog_post", canonical=post.path, in_sitemap=True, data=post))
        amp = self._posts[0].path + "amp/"
        add(_Spec(amp, "blog_amp", canonical=self._posts[0].path, canonical_source="header",
                  data=self._posts[0]))  # fmt: skip
        for tag in _TAGS:
            key = f"/blog/tag/{tag}/"
            add(_Spec(key, "blog_tag", canonical=key, noindex_source="meta",
                      in_sitemap=tag == _TAGS[0], data=tag))  # fmt: skip
        add(_Spec("/guides/", "guide_index", canonical="/guides/", in_sitemap=True))
        for guide in self._guides:
            add(_Spec(guide.path, "guide", canonical=guide.path, in_sitemap=True, data=guide))
        add(_Spec("/guides/gift-guide/print/", "guide_print", noindex_source="header",
                  data=self._guides[3]))  # fmt: skip
        for slug, title in _STATIC:
            add(_Spec(f"/{slug}/", "static", canonical=f"/{slug}/", in_sitemap=True, data=title))
        add(_Spec(LEGACY_PAGE, "legacy", content_type=HTML_CP1252, canonical=LEGACY_PAGE))
        for term in _SEARCHES:
            add(_Spec(f"/search/?q={term}", "search", noindex_source="meta", data=term))
        for key, title in (("/cart/", "Your cart"), ("/checkout/", "Checkout"),
                           ("/account/login/", "Sign in"), ("/account/register/", "Create an account")):  # fmt: skip
            add(_Spec(key, "account", noindex_source="meta", data=title,
                      in_sitemap=key == ROBOTS_BLOCKED_IN_SITEMAP))  # fmt: skip
        first_cat = f"/c/{_CATEGORIES[0][0]}/"
        running = "/c/sports/running/"
        for key, status, location, in_sitemap in (
            (OLD_SALE, 301, BASE + first_cat, True),
            (PROMO, 302, SUMMER_SALE, False),
            (SUMMER_SALE, 301, BASE + running, False),
            (LOOP_A, 301, LOOP_B, False),
            (LOOP_B, 302, BASE + LOOP_A, False),
            (SLASHLESS_CONTACT, 301, "/contact/", False),
        ):
            add(_Spec(key, "redirect", status=status, location=location, in_sitemap=in_sitemap))
        for key in _NOT_FOUND:
            add(_Spec(key, "not_found", status=404, in_sitemap=key == _NOT_FOUND[0]))
        for key in PDFS:
            add(_Spec(key, "pdf", content_type="application/pdf"))

    # -- ground truth ---------------------------------------------------------------------------

    def _key(self, path_or_url: str) -> str:
        key = self.path_of(path_or_url)
        if key not in self._specs:
            raise KeyError(path_or_url)
        return key

    def page(self, path_or_url: str) -> DemoPage:
        """The planted facts of one URL (site path or absolute URL on `base_url`)."""
        spec = self._specs[self._key(path_or_url)]
        location = None
        if spec.location is not None:
            location = self.url(_resolve(spec.key, spec.location)[0])
        return DemoPage(
            path=spec.key,
            url=self.url(spec.key),
            kind=spec.kind,
            status=spec.status,
            content_type=spec.content_type,
            redirect_target=location,
            canonical=self.url(spec.canonical) if spec.canonical else None,
            canonical_source=spec.canonical_source or ("html" if spec.canonical else None),
            is_noindex=spec.noindex_source is not None,
            noindex_source=spec.noindex_source,
            robots_disallowed=is_robots_disallowed(spec.key),
            in_sitemap=spec.in_sitemap,
            is_orphan=spec.is_orphan,
        )

    @property
    def pages(self) -> dict[str, DemoPage]:
        """Every URL the server knows (robots.txt and sitemaps excluded), keyed by site path."""
        return {key: self.page(key) for key in self._specs}

    def html_paths(self) -> list[str]:
        """Keys of every page served as 200 HTML, reachable or not."""
        return [k for k, s in self._specs.items() if s.status == 200 and s.kind != "pdf"]

    def links(self, path_or_url: str) -> list[DemoLink]:
        """Every `<a href>` of the page in document order (duplicates and externals included).

        Redirects, PDFs and 404s have none (the 404 page has no `<a href>`).
        """
        key = self._key(path_or_url)
        cache = self._demo_links.setdefault(self._base_url, {})
        out = []
        for link in self._doc(key).links:
            demo = cache.get(link)
            if demo is None:
                demo = cache[link] = link.demo_link(self._base_url)
            out.append(demo)
        return out

    def _edges(self, key: str) -> Iterable[str]:
        return (link.target for link in self._doc(key).links if link.is_internal)

    def _crawl_graph(self) -> tuple[dict[str, int], set[str]]:
        """0-1 BFS from `/`: link edges cost 1, redirect hops cost 0."""
        if self._graph is not None:
            return self._graph
        depth: dict[str, int] = {"/": 0}
        queue: deque[tuple[int, str]] = deque([(0, "/")])
        while queue:
            d, key = queue.popleft()
            if d > depth[key] or is_robots_disallowed(key):
                continue  # stale entry, or discovered but never fetched
            spec = self._specs.get(key)
            if spec is None:
                continue
            if spec.location is not None:
                hop = _resolve(key, spec.location)[0]
                if depth.get(hop, d + 1) > d:
                    depth[hop] = d
                    queue.appendleft((d, hop))
            elif spec.status == 200 and spec.kind != "pdf":
                for target in self._edges(key):
                    if depth.get(target, d + 2) > d + 1:
                        depth[target] = d + 1
                        queue.append((d + 1, target))
        self._graph = (depth, set(depth))
        return self._graph

    def reachable_urls(self) -> set[str]:
        """URLs a crawler starting at `/` records: every internal link target and redirect hop.

        Nofollow links are followed; robots-disallowed URLs are reached (recorded as blocked) but
        not fetched, so their links do not count; non-HTML and non-200 pages are not parsed.
        Orphans, robots.txt and sitemaps are not reached.
        """
        return {self.url(k) for k in self._crawl_graph()[1]}

    def depths(self) -> dict[str, int]:
        """Click depth from `/` (0). A link adds 1; a redirect hop adds 0, so the final URL of a
        redirect gets the depth of the link that pointed at the redirect source. Shortest path
        over the same edges as `reachable_urls`."""
        return {self.url(k): d for k, d in self._crawl_graph()[0].items()}

    def orphans(self) -> set[str]:
        """Pages listed in the sitemap that no page links to."""
        return {self.url(k) for k, s in self._specs.items() if s.is_orphan}

    def sitemap_urls(self) -> set[str]:
        """Every `<loc>` of every sitemap the site publishes.

        The three children of the index list them all; the hreflang and image sitemaps (named
        by robots.txt) list some of them again, never a URL of their own.
        """
        return {self.url(k) for k, s in self._specs.items() if s.in_sitemap}

    def sitemap_files(self) -> dict[str, list[str]]:
        """{sitemap URL: its `<loc>` URLs in file order} for the five urlsets (not the index)."""
        return {
            self.url(child): [self.url(k) for k in self.sitemap_keys(child)]
            for child in (*SITEMAP_CHILDREN, *SITEMAP_EXTRAS)
        }

    def sitemap_roots(self) -> list[str]:
        """The `Sitemap:` lines of robots.txt, in order: the index, then the two extras."""
        return [self.url(p) for p in (SITEMAP_INDEX, *SITEMAP_EXTRAS)]

    def sitemap_lastmods(self) -> dict[str, str]:
        """{URL: `<lastmod>` as written} (the same value in every file that lists the URL)."""
        return {self.url(k): self._lastmod_of(k) for k, s in self._specs.items() if s.in_sitemap}

    def sitemap_hreflang(self) -> dict[str, list[tuple[str, str]]]:
        """{URL: [(hreflang, absolute href), ...]} of the hreflang sitemap, in file order."""
        return {
            self.url(k): [(lang, self.url(href)) for lang, href in self._hreflang_of(k)]
            for k in HREFLANG_PAGES
        }

    def sitemap_images(self) -> dict[str, list[str]]:
        """{URL: [absolute image URL, ...]} of the image sitemap, in file order."""
        return {self.url(p.path): [self.url(i) for i in self._images_of(p.path)]
                for p in self._featured}  # fmt: skip

    def expected_sitemap_findings(self) -> dict[str, set[str]]:
        """What a sitemap audit of this site must report: {finding: URLs}.

        - `not_found`: listed, answers 404.          - `redirect`: listed, answers 3xx.
        - `noindex`: listed, carries noindex.        - `non_canonical`: listed, canonical elsewhere.
        - `blocked_by_robots`: listed, robots.txt disallows it (for every agent). The page-level
          findings above leave such URLs out: a crawler never sees what they would answer.
        - `orphan`: listed, no page links to it.
        - `stale_lastmod`: lastmod more than STALE_LASTMOD_DAYS before the newest valid lastmod
          of the site's sitemaps.
        - `invalid_lastmod`: lastmod present but not a W3C datetime.
        - `multiple_sitemaps`: listed by more than one sitemap file.
        - `hreflang_alternate_not_found`: an hreflang alternate of the URL answers 404.
        - `unexpected_content_type` (a sitemap URL, not a page): served as something that is
          neither XML nor gzip nor text.
        """
        listed = {k for k, s in self._specs.items() if s.in_sitemap}
        count: dict[str, int] = {}
        for child in (*SITEMAP_CHILDREN, *SITEMAP_EXTRAS):
            for key in self.sitemap_keys(child):
                count[key] = count.get(key, 0) + 1
        newest = max(
            date.fromisoformat(self._lastmod_of(k))
            for k in listed
            if self._lastmod_of(k) != INVALID_LASTMOD
        )
        stale = {
            k
            for k in listed
            if self._lastmod_of(k) != INVALID_LASTMOD
            and (newest - date.fromisoformat(self._lastmod_of(k))).days > STALE_LASTMOD_DAYS
        }

        def urls(keys: Iterable[str]) -> set[str]:
            return {self.url(k) for k in keys}

        specs = self._specs
        blocked = {k for k in listed if is_robots_disallowed(k)}
        fetched = listed - blocked  # a crawler cannot see what a blocked page would answer
        return {
            "not_found": urls(k for k in fetched if specs[k].status == 404),
            "redirect": urls(k for k in fetched if specs[k].location is not None),
            "noindex": urls(k for k in fetched if specs[k].noindex_source is not None),
            "non_canonical": urls(
                k for k in fetched if specs[k].canonical not in (None, k) and specs[k].status == 200
            ),
            "blocked_by_robots": urls(blocked),
            "orphan": self.orphans(),
            "stale_lastmod": urls(stale),
            "invalid_lastmod": urls(k for k in listed if self._lastmod_of(k) == INVALID_LASTMOD),
            "multiple_sitemaps": urls(k for k, n in count.items() if n > 1),
            "hreflang_alternate_not_found": urls(
                k
                for k in HREFLANG_PAGES
                if any(href not in specs for _lang, href in self._hreflang_of(k))
            ),
            "unexpected_content_type": {self.url(SITEMAP_HREFLANG)},
        }

    def robots_disallowed(self) -> set[str]:
        """Reached URLs that robots.txt blocks (a crawler records them without fetching)."""
        return {self.url(k) for k in self._crawl_graph()[1] if is_robots_disallowed(k)}

    # -- responses ------------------------------------------------------------------------------

    def response(self, target: str, base_url: str | None = None) -> DemoResponse:
        """The response to `GET target` (request path with query) for a site served at base_url.

        Unknown tracking parameters are ignored the way real shops ignore them; anything else
        unknown is a 404. Cached per (page, base_url) because the server must not be the
        bottleneck of a crawl benchmark.
        """
        base = (base_url or self._base_url).rstrip("/")
        key = target.split("#", 1)[0] or "/"
        if key not in self._specs and key not in _RESOURCES:
            try:
                key = _resolve("/", key)[0]  # drop tracking parameters
            except ValueError:
                key = ""
        if key not in self._specs and key not in _RESOURCES:
            key = ""  # one cached 404 for every unknown target: the cache cannot grow unbounded
        cached = self._responses.get((key, base))
        if cached is not None:
            return cached
        resource = _RESOURCES.get(key)
        if resource is not None:
            content_type, body = resource(self, base)
            resp = DemoResponse(200, _headers(content_type, len(body)), body)
        elif key:
            resp = self._page_response(self._specs[key], base)
        else:
            resp = _not_found_response()
        self._responses[(key, base)] = resp
        return resp

    def _page_response(self, spec: _Spec, base: str) -> DemoResponse:
        if spec.location is not None:
            location = spec.location.replace(BASE, base)
            return DemoResponse(spec.status, _headers(HTML_UTF8, 0, Location=location), b"")
        if spec.kind == "not_found":
            return _not_found_response()
        if spec.kind == "pdf":
            body = _pdf_bytes(PDFS[spec.key])
            return DemoResponse(200, _headers(spec.content_type, len(body)), body)
        html = self._doc(spec.key).html().replace(BASE, base)
        body = html.encode("cp1252" if spec.content_type == HTML_CP1252 else "utf-8")
        extra: dict[str, str] = {}
        if spec.noindex_source == "header":
            extra["X-Robots-Tag"] = "noindex"
        if spec.canonical_source == "header":
            extra["Link"] = f'<{base}{spec.canonical}>; rel="canonical"'
        return DemoResponse(spec.status, _headers(spec.content_type, len(body), **extra), body)

    def _doc(self, key: str) -> _Doc:
        doc = self._docs.get(key)
        if doc is None:
            spec = self._specs[key]
            doc = _RENDERERS[spec.kind](self, spec)
            self._docs[key] = doc
        return doc

    # -- robots and sitemaps ----------------------------------------------------------------------

    def robots_txt(self, base: str) -> str:
        lines = ["# Demo Shop", "User-agent: BadBot", "Disallow: /", "", "User-agent: *"]
        lines += [f"Disallow: {prefix}" for prefix in ROBOTS_DISALLOWED_PREFIXES]
        lines += [""] + [f"Sitemap: {base}{path}" for path in (SITEMAP_INDEX, *SITEMAP_EXTRAS)]
        return "\n".join([*lines, ""])

    def sitemap_keys(self, child: str) -> list[str]:
        """Keys listed in one sitemap file (a child of the index or an extra), in file order."""
        if child == SITEMAP_HREFLANG:
            return list(HREFLANG_PAGES)
        if child == SITEMAP_IMAGES:
            return [p.path for p in self._featured]

        def section(spec: _Spec) -> str:
            if spec.key.startswith("/p/"):
                return SITEMAP_CHILDREN[0]
            if spec.key.startswith("/blog/"):
                return SITEMAP_CHILDREN[2]
            return SITEMAP_CHILDREN[1]

        return [k for k, s in self._specs.items() if s.in_sitemap and section(s) == child]

    def _lastmod_of(self, key: str) -> str:
        data = self._specs[key].data
        if key == STALE_LASTMOD_PAGE:
            return STALE_LASTMOD
        if isinstance(data, _Post):
            if data.index == INVALID_LASTMOD_POST_INDEX:
                return INVALID_LASTMOD
            return data.published.isoformat()
        return _LASTMOD

    def _hreflang_of(self, key: str) -> list[tuple[str, str]]:
        """(hreflang, site key) alternates of a page in the hreflang sitemap."""
        return [("en", key), ("x-default", key), ("de", HREFLANG_MISSING_PREFIX + key)]

    def _images_of(self, key: str) -> list[str]:
        """Image paths of a product in the image sitemap: the photo, then each colour swatch."""
        product = self._specs[key].data
        assert isinstance(product, _Product)
        return [f"/img/p/{product.slug}.jpg"] + [f"/img/swatch/{c}.png" for c in product.colours]

    def sitemap_xml(self, child: str, base: str) -> str:
        namespaces = ' xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        if child == SITEMAP_HREFLANG:
            namespaces += ' xmlns:xhtml="http://www.w3.org/1999/xhtml"'
        if child == SITEMAP_IMAGES:
            namespaces += ' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"'
        rows = []
        for key in self.sitemap_keys(child):
            parts = [f"<loc>{escape(base + key)}</loc><lastmod>{self._lastmod_of(key)}</lastmod>"]
            if child == SITEMAP_HREFLANG:
                parts += [
                    f'<xhtml:link rel="alternate" hreflang="{lang}" href="{escape(base + href)}"/>'
                    for lang, href in self._hreflang_of(key)
                ]
            if child == SITEMAP_IMAGES:
                parts += [
                    f"<image:image><image:loc>{escape(base + path)}</image:loc></image:image>"
                    for path in self._images_of(key)
                ]
            rows.append(f"  <url>{''.join(parts)}</url>")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<urlset{namespaces}>\n" + "\n".join(rows) + "\n</urlset>\n"
        )

    def sitemap_index_xml(self, base: str) -> str:
        rows = [
            f"  <sitemap><loc>{base}{child}</loc><lastmod>{_LASTMOD}</lastmod></sitemap>"
            for child in SITEMAP_CHILDREN
        ]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows)
            + "\n</sitemapindex>\n"
        )


def _headers(content_type: str, length: int, **extra: str) -> tuple[tuple[str, str], ...]:
    head = [("Content-Type", content_type), ("Content-Length", str(length))]
    head += [(name.replace("_", "-"), value) for name, value in extra.items()]
    return tuple(head)


# No <a href> on the 404 page: a crawler records no links from non-200 pages, and with none in
# the body "the page's links" and "the links a crawler records" cannot disagree.
_NOT_FOUND_HTML = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Page not found</title>'
    "</head>\n<body><main><h1>Page not found</h1><p>Sorry, this page does not exist. "
    "Try the search or the menu on our home page.</p></main></body></html>\n"
)


def _not_found_response() -> DemoResponse:
    body = _NOT_FOUND_HTML.encode()
    return DemoResponse(404, _headers(HTML_UTF8, len(body)), body)


def _pdf_bytes(title: str) -> bytes:
    """A tiny one-page PDF: real enough for a sniffer, never parsed by the crawler."""
    return (
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
        f"% {title}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    ).encode("ascii")


_RESOURCES: dict[str, Callable[[DemoSite, str], tuple[str, bytes]]] = {
    "/robots.txt": lambda s, b: ("text/plain; charset=utf-8", s.robots_txt(b).encode()),
    SITEMAP_INDEX: lambda s, b: ("application/xml; charset=utf-8", s.sitemap_index_xml(b).encode()),
    SITEMAP_CHILDREN[0]: lambda s, b: (
        "application/gzip",
        gzip.compress(s.sitemap_xml(SITEMAP_CHILDREN[0], b).encode(), mtime=0),
    ),
    SITEMAP_CHILDREN[1]: lambda s, b: (
        "application/xml; charset=utf-8",
        s.sitemap_xml(SITEMAP_CHILDREN[1], b).encode(),
    ),
    SITEMAP_CHILDREN[2]: lambda s, b: (
        "application/xml; charset=utf-8",
        s.sitemap_xml(SITEMAP_CHILDREN[2], b).encode(),
    ),
    SITEMAP_HREFLANG: lambda s, b: (HTML_UTF8, s.sitemap_xml(SITEMAP_HREFLANG, b).encode()),
    SITEMAP_IMAGES: lambda s, b: (
        "application/xml; charset=utf-8",
        s.sitemap_xml(SITEMAP_IMAGES, b).encode(),
    ),
}


def build_demo_site(seed: int = 7) -> DemoSite:
    """Build the demo shop; the same seed gives byte-identical pages."""
    return DemoSite(seed)


# ---------------------------------------------------------------------------------------------
# Renderers: one function per page kind, each returning the page's `_Doc`.
#
# Landmarks (what a position detector keys on; nearest landmark ancestor wins):
#   <header class="site-header">                 -> header
#   <nav class="main-menu" aria-label="Main menu"> -> nav          (sibling after </header>)
#   <nav aria-label="breadcrumb"><ol class="breadcrumb"> -> breadcrumb (sibling before .layout)
#   <div class="layout"><main id="main">         -> content
#                       <aside class="sidebar">  -> sidebar      (sibling after </main>)
#   <footer class="site-footer">                 -> footer
# No landmark is nested in another one, and no link sits outside all of them.
# ---------------------------------------------------------------------------------------------

_EXTERNAL_FOOTER = (
    ("https://www.facebook.com/demo-shop", "Facebook", "nofollow noopener"),
    ("https://twitter.com/demo", "Twitter", "noopener"),
    ("https://www.instagram.com/demo.shop/", "Instagram", "noopener noreferrer nofollow"),
)
_COMMENTERS = ("AnnaStyles", "BenRuns", "CarlaKnits", "DevOutdoors")
Crumbs = list[tuple[str, str | None]]


def _page_rng(site: DemoSite, spec: _Spec) -> random.Random:
    """Per-page randomness: lazy rendering in any order stays deterministic."""
    return random.Random(f"{site.seed}:{spec.key}")


def _price(product: _Product) -> str:
    return f"€{product.price_cents // 100}.{product.price_cents % 100:02d}"


def _tag_name(tag: str) -> str:
    return tag.replace("-", " ").capitalize()


@lru_cache(maxsize=1)
def _header_and_menu() -> _Doc:
    """Logo, sign-in and cart links, then the main menu: identical on every page, built once."""
    doc = _Doc("/")
    doc.a("header", "/", "Demo Shop", img="/static/logo.svg", attrs='class="logo"')
    doc.raw('\n<form class="search" action="/search/" method="get">')
    doc.raw('<input type="search" name="q" aria-label="Search"></form>\n')
    doc.a("header", "/account/login/", "Sign in", rel="nofollow")
    doc.raw("\n")
    icon = '<span class="icon icon-cart" aria-hidden="true"></span>\n    Cart'
    doc.a("header", "/cart/", "Cart", inner=icon)
    doc.raw('\n</header>\n<nav class="main-menu" aria-label="Main menu">\n<ul>\n')
    for cat, name in _CATEGORIES:
        doc.raw("<li>")
        doc.a("nav", f"/c/{cat}/", name)
        doc.raw("</li>\n")
    for href, text in (("/guides/", "Guides"), ("/blog/", "Blog")):
        doc.raw("<li>")
        doc.a("nav", href, text)
        doc.raw("</li>\n")
    doc.raw("</ul>\n</nav>\n")
    return doc


def _open(
    doc: _Doc,
    spec: _Spec,
    title: str,
    crumbs: Crumbs | None,
    *,
    base_href: str | None = None,
    top_anchor: bool = False,
) -> None:
    """Head, header, main menu and breadcrumb; leaves `<main>` open."""
    if spec.content_type == HTML_CP1252:
        charset = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    else:
        charset = '<meta charset="utf-8">'
    head = [f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{charset}\n']
    head.append(f"<title>{escape(title)} | Demo Shop</title>\n")
    head.append('<meta name="viewport" content="width=device-width, initial-scale=1">\n')
    head.append(f'<meta name="description" content="{escape(title)} at Demo Shop.">\n')
    if spec.noindex_source == "meta":
        head.append('<meta name="robots" content="noindex,follow">\n')
    if spec.canonical and spec.canonical_source is None:
        head.append(f'<link rel="canonical" href="{BASE}{spec.canonical}">\n')
    if base_href:
        head.append(f'<base href="{base_href}">\n')
        doc.set_base_href(base_href)
    head.append('<link rel="stylesheet" href="/static/site.css">\n</head>\n<body>\n')
    if top_anchor:
        head.append('<a name="top"></a>\n')
    head.append('<header class="site-header">\n')
    doc.raw("".join(head))
    doc.extend(_header_and_menu())
    if crumbs:
        doc.raw('<nav aria-label="breadcrumb"><ol class="breadcrumb">\n')
        for text, href in crumbs:
            if href is None:
                doc.raw(
                    f'<li class="breadcrumb-item active" aria-current="page">{escape(text)}</li>\n'
                )
            else:
                doc.raw('<li class="breadcrumb-item">')
                doc.a("breadcrumb", href, text)
                doc.raw("</li>\n")
        doc.raw("</ol></nav>\n")
    doc.raw('<div class="layout">\n<main id="main">\n')


@lru_cache(maxsize=1)
def _footer_links() -> _Doc:
    """Footer up to its optional page-specific links: identical on every page, built once."""
    doc = _Doc("/")
    doc.raw('<footer class="site-footer">\n<ul class="footer-links">\n')
    for slug, title in (*_STATIC, ("guides", "Guides"), ("blog", "Blog")):
        doc.raw("<li>")
        doc.a("footer", f"/{slug}/", title)
        doc.raw("</li>\n")
    doc.raw('</ul>\n<p class="popular-searches">Popular searches:\n')
    for term in _SEARCHES:
        doc.a("footer", f"/search/?q={term}", term.replace("-", " "))
        doc.raw("\n")
    doc.raw('</p>\n<p class="social">\n')
    for href, text, rel in _EXTERNAL_FOOTER:
        doc.a("footer", href, text, rel=rel, attrs='target="_blank"')
        doc.raw("\n")
    doc.raw("</p>\n")
    return doc


def _close(
    doc: _Doc, sidebar: Callable[[], None] | None = None, *, back_to_top: bool = False
) -> None:
    """Closes `<main>`, writes the optional `<aside class="sidebar">` and the footer."""
    doc.raw("\n</main>\n")
    if sidebar is not None:
        doc.raw('<aside class="sidebar">\n')
        sidebar()
        doc.raw("</aside>\n")
    doc.raw("</div>\n")
    doc.extend(_footer_links())
    if back_to_top:
        doc.a("footer", "#top", "Back to top", attrs='class="back-to-top"')
    doc.raw('\n<p class="copyright">&copy; 2024 Demo Shop</p>\n</footer>\n</body>\n</html>\n')


def _list_links(doc: _Doc, position: str, items: Iterable[tuple[str, str]], css: str = "") -> None:
    doc.raw(f'<ul class="{css}">\n' if css else "<ul>\n")
    for href, text in items:
        doc.raw("<li>")
        doc.a(position, href, text)
        doc.raw("</li>\n")
    doc.raw("</ul>\n")


def _product_card(doc: _Doc, product: _Product, *, reviews: int = 0) -> None:
    """Image link + title link to the same product (duplicates are real and kept)."""
    doc.extend(_product_card_fragment(product, reviews))


@lru_cache(maxsize=8192)
def _product_card_fragment(product: _Product, reviews: int) -> _Doc:
    """A product appears on ~6 pages; its card (root-relative hrefs only) is built once."""
    doc = _Doc("/")
    doc.raw('<li class="product-card">')
    doc.a("content", product.path, product.name, img=f"/img/p/{product.slug}.jpg")
    doc.raw("<h3>")
    doc.a("content", product.path, product.name)
    doc.raw(f'</h3><span class="price">{_price(product)}</span>')
    if reviews:
        doc.a("content", product.path + "#reviews", f"{reviews} reviews", attrs='class="reviews"')
    doc.raw("</li>\n")
    return doc


def _blog_sidebar(site: DemoSite, doc: _Doc) -> Callable[[], None]:
    def write() -> None:
        doc.raw("<h2>Popular posts</h2>\n")
        _list_links(doc, "sidebar", ((p.path, p.title) for p in site._popular_posts))
        doc.raw("<h2>Topics</h2>\n")
        _list_links(doc, "sidebar", ((f"/blog/tag/{t}/", _tag_name(t)) for t in _TAGS), "tags")

    return write


def _render_home(site: DemoSite, spec: _Spec) -> _Doc:
    doc = _Doc(spec.key)
    _open(doc, spec, "Demo Shop: clothing, shoes and home", None)
    doc.raw('<section class="hero">')
    doc.a("content", PROMO, "Summer sale – up to 50% off", img="/img/hero-summer.jpg",
          attrs='class="hero-banner"')  # fmt: skip
    doc.raw('</section>\n<section class="categories"><h2>Shop by category</h2>\n<ul>\n')
    for cat, name in _CATEGORIES:
        doc.raw("<li>")
        doc.a("content", f"/c/{cat}/", name, img=f"/img/c/{cat}.jpg")
        doc.a("content", f"/c/{cat}/", name)
        doc.raw("</li>\n")
    doc.raw('</ul></section>\n<section class="featured"><h2>Featured products</h2>\n')
    doc.raw('<ul class="product-grid">\n')
    for product in site._featured:
        _product_card(doc, product)
    doc.raw('</ul></section>\n<p class="archive">Missed it? Browse ')
    doc.a("content", OLD_SALE, "last season's sale")
    doc.raw('.</p>\n<section class="journal"><h2>From the journal</h2>\n<ul>\n')
    for i, post in enumerate(site._posts[:4]):
        href = post.path + ("?utm_source=homepage&utm_medium=banner" if i == 0 else "")
        doc.raw("<li>")
        doc.a("content", href, post.title)
        doc.raw("</li>\n")
    doc.raw("</ul>\n")
    doc.a("content", "/guides/", "All guides")
    doc.raw('\n<!-- <a href="/c/clearance/">Clearance</a> -->\n</section>')
    _close(doc)
    return doc


def _render_category(site: DemoSite, spec: _Spec) -> _Doc:
    cat = str(spec.data)
    name = dict(_CATEGORIES)[cat]
    subs = [s for s in site._subs if s.cat_slug == cat]
    doc = _Doc(spec.key)
    _open(doc, spec, name, [("Home", "/"), (name, None)])
    doc.raw(f'<h1>{escape(name)}</h1>\n<ul class="subcategories">\n')
    for sub in subs:
        doc.raw("<li>")
        doc.a("content", sub.path, sub.name, img=f"/img/c/{cat}-{sub.slug}.jpg")
        doc.a("content", f"{sub.slug}/", sub.name)  # relative to /c/<cat>/
        doc.raw("</li>\n")
    doc.raw('</ul>\n<h2>Bestsellers</h2>\n<ol class="bestsellers">\n')
    pool = [p for s in subs for p in s.products]
    for product in _page_rng(site, spec).sample(pool, 8):
        doc.raw("<li>")
        doc.a("content", BASE + product.path, product.name,
              inner=f"\n      {escape(product.name, quote=False)}\n    ")  # fmt: skip
        doc.raw("</li>\n")
    doc.raw("</ol>")

    def sidebar() -> None:
        doc.raw("<h2>Subcategories</h2>\n")
        _list_links(doc, "sidebar", ((s.path, s.name) for s in subs))

    _close(doc, sidebar)
    return doc


def _render_listing(site: DemoSite, spec: _Spec) -> _Doc:
    sub, page = spec.data  # type: ignore[misc]
    assert isinstance(sub, _Sub) and isinstance(page, int)
    cat_path = f"/c/{sub.cat_slug}/"
    crumbs: Crumbs = [("Home", "/"), (sub.cat_name, cat_path)]
    crumbs += [(sub.name, None)] if page == 1 else [(sub.name, sub.path), (f"Page {page}", None)]
    title = sub.name if page == 1 else f"{sub.name} – page {page}"
    doc = _Doc(spec.key)
    _open(doc, spec, title, crumbs)
    doc.raw(f"<h1>{escape(title)}</h1>\n<p>{len(sub.products)} products</p>\n")
    doc.raw('<ul class="product-grid">\n')
    start = (page - 1) * PRODUCTS_PER_PAGE
    for i, product in enumerate(sub.products[start : start + PRODUCTS_PER_PAGE]):
        _product_card(doc, product, reviews=(3 + i) if i % 6 == 0 else 0)
    doc.raw('</ul>\n<div class="pagination">\n')

    def page_href(n: int) -> str:  # query-only and dot-relative hrefs, as many shops write them
        return "./" if n == 1 else f"?page={n}"

    if page > 1:
        doc.a("content", page_href(page - 1), "Previous", rel="prev")
    for n in range(1, sub.pages + 1):
        if n == page:
            doc.raw(f'<span aria-current="page">{n}</span>')
        else:
            doc.a("content", page_href(n), str(n))
    if page < sub.pages:
        doc.a("content", page_href(page + 1), "Next", rel="next")
    doc.raw("\n</div>")

    def sidebar() -> None:
        doc.raw(f"<h2>More in {escape(sub.cat_name)}</h2>\n")
        others = [s for s in site._subs if s.cat_slug == sub.cat_slug and s is not sub]
        _list_links(doc, "sidebar", ((f"../{s.slug}/", s.name) for s in others))
        if sub.posts:
            doc.raw("<h2>From the blog</h2>\n")
            _list_links(doc, "sidebar", ((p.path, p.title) for p in sub.posts[:3]))

    _close(doc, sidebar)
    return doc


def _render_product(site: DemoSite, spec: _Spec) -> _Doc:
    if spec.kind == "variant":
        product, colour = spec.data  # type: ignore[misc]
    else:
        product, colour = spec.data, None
    assert isinstance(product, _Product)
    sub = product.sub
    title = f"{product.name} in {colour.title()}" if colour else product.name
    crumbs: Crumbs = [("Home", "/"), (sub.cat_name, f"/c/{sub.cat_slug}/"), (sub.name, sub.path)]
    doc = _Doc(spec.key)
    _open(doc, spec, title, [*crumbs, (product.name, None)])
    doc.raw(f'<article class="product">\n<h1>{escape(title)}</h1>\n')
    doc.raw(
        f'<div class="gallery"><img src="/img/p/{product.slug}.jpg" alt="{escape(title)}"></div>\n'
    )
    doc.raw(f'<p class="price">{_price(product)}</p>\n')
    if product.colours:
        doc.raw('<div class="swatches"><span>Colours:</span>\n')
        for c in product.colours:
            doc.a(
                "content",
                f"?color={c}",
                c.title(),
                img=f"/img/swatch/{c}.png",
                attrs='class="swatch"',
            )
        if colour:
            doc.a("content", "./", "View all colours")
        doc.raw("\n</div>\n")
    doc.raw(f"<p>The {escape(product.name)} is part of our {escape(sub.name.lower())} range.")
    if sub.cat_slug not in ("home", "beauty"):
        doc.raw(" Not sure about the fit? See our ")
        doc.a("content", "/guides/size-guide/", "size guide")
        doc.raw(".")
    rng = _page_rng(site, spec)
    doc.raw(
        f'</p>\n<section id="reviews"><h2>Reviews</h2><p>Rated 4.{rng.randint(0, 9)} out of 5.</p>'
    )
    doc.raw(
        '</section>\n<section class="related"><h2>You may also like</h2>\n<ul class="product-grid">\n'
    )
    for other in rng.sample([p for p in sub.products if p is not product], 4):
        _product_card(doc, other)
    doc.raw("</ul></section>\n</article>")
    _close(doc)
    return doc


def _render_blog_post(site: DemoSite, spec: _Spec) -> _Doc:
    post = spec.data
    assert isinstance(post, _Post)
    i, sub = post.index, post.sub
    rng = _page_rng(site, spec)
    doc = _Doc(spec.key)
    _open(doc, spec, post.title, [("Home", "/"), ("Blog", "/blog/"), (post.title, None)],
          top_anchor=True)  # fmt: skip
    doc.raw(f'<article class="post">\n<h1>{escape(post.title)}</h1>\n')
    doc.raw(
        f'<p class="meta">Published <time datetime="{post.published}">{post.published}</time> in '
    )
    for n, tag in enumerate(post.tags):
        doc.raw(", " if n else "")
        doc.a("content", f"/blog/tag/{tag}/", _tag_name(tag))
    p0, p1, p2 = rng.sample(sub.products, 3)
    doc.raw("</p>\n<p>This season we fell for the ")
    doc.a("content", BASE + p0.path, p0.name)
    doc.raw(". It pairs well with the ")
    doc.a(
        "content", p1.path + ("?utm_source=newsletter&utm_campaign=blog" if i % 2 else ""), p1.name
    )
    doc.raw(".</p>\n<p>Browse all ")
    doc.a("content", f"../../c/{sub.cat_slug}/{sub.slug}/", sub.name.lower())
    doc.raw(" or read ")
    doc.a("content", p2.path + "#reviews", "what reviewers say")
    doc.raw(".</p>\n<p>More in our ")
    guide = next(g for g in site._guides if g.sub is sub)
    doc.a("content", guide.path + "?utm_source=blog&utm_medium=internal", guide.title)
    doc.raw(".</p>\n")
    if i % 40 in (3, 13, 23):
        doc.raw("<p>Update: the ")
        doc.a("content", _NOT_FOUND[(i % 40) // 10], "product we mentioned")
        doc.raw(" is no longer available.</p>\n")
    if i % 25 == 7:
        doc.raw("<p>Still looking for bargains? Check ")
        doc.a("content", OLD_SALE, "the sale archive")
        doc.raw(".</p>\n")
    if i % 30 == 11:
        doc.raw("<p>Questions? ")
        doc.a("content", SLASHLESS_CONTACT, "Get in touch")
        doc.raw(".</p>\n")
    if i % 10 == 4:
        sponsored = rng.choice(site._listed)
        doc.raw('<div class="sponsored">Sponsored: ')
        doc.a("content", sponsored.path + "?utm_source=partner&utm_campaign=spring", sponsored.name,
              rel="sponsored")  # fmt: skip
        doc.raw(" from our partner ")
        doc.a("content", "https://partner-brand.example/offer?ref=demo-shop&utm_source=demo",
              "Partner Brand", rel="sponsored noopener", attrs='target="_blank"')  # fmt: skip
        doc.raw("</div>\n")
    if i == 0:
        doc.raw("<p>On a slow connection? Try the ")
        doc.a("content", "amp/", "lightweight version")
        doc.raw(".</p>\n")
    n_comments = 1 + (i // 3) % 3 if i % 3 == 0 else 0
    if n_comments or i % 17 == 1:
        doc.raw('<section class="comments"><h2>Comments</h2>\n')
        for c in range(n_comments):
            who = _COMMENTERS[(i + c) % len(_COMMENTERS)]
            doc.raw('<div class="comment"><p class="author">')
            rel = "Nofollow UGC" if i == 0 and c == 0 else "nofollow ugc"  # rel is case-insensitive
            doc.a("content", f"https://www.{who}.example/", who, rel=rel)
            doc.raw("</p><p>Love this, thanks!</p></div>\n")
        if i % 17 == 1:
            doc.raw('<div class="comment"><p>I bought the ')
            doc.a("content", p0.path, p0.name, rel="ugc")
            doc.raw(" and it is great.</p></div>\n")
        doc.raw("</section>\n")
    doc.raw("</article>")
    _close(doc, _blog_sidebar(site, doc), back_to_top=True)
    return doc


def _render_blog_index(site: DemoSite, spec: _Spec) -> _Doc:
    page = spec.data
    assert isinstance(page, int)
    pages = -(-len(site._posts) // POSTS_PER_PAGE)
    crumbs: Crumbs = [("Home", "/")]
    crumbs += [("Blog", None)] if page == 1 else [("Blog", "/blog/"), (f"Page {page}", None)]
    doc = _Doc(spec.key)
    _open(doc, spec, "Blog" if page == 1 else f"Blog – page {page}", crumbs)
    doc.raw("<h1>The Demo Shop journal</h1>\n")
    start = (page - 1) * POSTS_PER_PAGE
    for post in site._posts[start : start + POSTS_PER_PAGE]:
        doc.raw('<article class="teaser"><h2>')
        doc.a("content", post.path, post.title)
        doc.raw(f"</h2><p>{escape(post.sub.name)} ideas from our stylists.</p>\n")
        hidden = f'Read more<span class="visually-hidden"> about {escape(post.title, quote=False)}</span>'
        doc.a("content", post.path, f"Read more about {post.title}", inner=hidden)
        doc.raw("</article>\n")
    doc.raw('<div class="pagination">\n')

    def index_href(n: int) -> str:
        return "/blog/" if n == 1 else f"/blog/page/{n}/"

    if page > 1:
        doc.a("content", index_href(page - 1), "Newer posts", rel="prev")
    if page < pages:
        doc.a("content", index_href(page + 1), "Older posts", rel="next")
    doc.raw("\n</div>")
    _close(doc, _blog_sidebar(site, doc))
    return doc


def _render_blog_tag(site: DemoSite, spec: _Spec) -> _Doc:
    tag = str(spec.data)
    doc = _Doc(spec.key)
    crumbs: Crumbs = [("Home", "/"), ("Blog", "/blog/"), (f"Tag: {_tag_name(tag)}", None)]
    _open(doc, spec, f"Posts tagged {_tag_name(tag)}", crumbs)
    doc.raw(f"<h1>Posts tagged {escape(_tag_name(tag))}</h1>\n")
    _list_links(doc, "content", ((p.path, p.title) for p in site._posts if tag in p.tags), "posts")
    _close(doc, _blog_sidebar(site, doc))
    return doc


def _render_blog_amp(site: DemoSite, spec: _Spec) -> _Doc:
    post = spec.data
    assert isinstance(post, _Post)
    doc = _Doc(spec.key)
    crumbs: Crumbs = [("Home", "/"), ("Blog", "/blog/"), (f"{post.title} (lightweight)", None)]
    _open(doc, spec, post.title, crumbs)
    doc.raw(f"<h1>{escape(post.title)}</h1>\n<p>A lighter version of this article.</p>\n")
    doc.a("content", post.path, "Read the full article")
    _close(doc)
    return doc


def _render_guide_index(site: DemoSite, spec: _Spec) -> _Doc:
    doc = _Doc(spec.key)
    _open(doc, spec, "Guides", [("Home", "/"), ("Guides", None)])
    doc.raw("<h1>Guides</h1>\n")
    _list_links(doc, "content", ((g.path, g.title) for g in site._guides), "guides")
    _close(doc)
    return doc


def _render_guide(site: DemoSite, spec: _Spec) -> _Doc:
    guide = spec.data
    assert isinstance(guide, _Guide)
    rng = _page_rng(site, spec)
    # One guide declares <base href>: its relative links resolve against /guides/, not itself.
    base_href = BASE + "/guides/" if guide.slug == "how-to-measure-yourself" else None
    doc = _Doc(spec.key)
    crumbs: Crumbs = [("Home", "/"), ("Guides", "/guides/"), (guide.title, None)]
    _open(doc, spec, guide.title, crumbs, base_href=base_href)
    doc.raw(f'<article class="guide">\n<h1>{escape(guide.title)}</h1>\n<p>Our favourites: ')
    pool = guide.sub.products if guide.sub else site._listed
    for n, product in enumerate(rng.sample(pool, 3)):
        doc.raw(", " if n else "")
        doc.a("content", product.path, product.name)
    if guide.sub:
        cat_path, cat_name = f"/c/{guide.sub.cat_slug}/", guide.sub.cat_name
    else:
        cat, cat_name = rng.choice(_CATEGORIES)
        cat_path = f"/c/{cat}/"
    doc.raw(".</p>\n<p>Shop the whole ")
    doc.a("content", cat_path, cat_name.lower())
    doc.raw(" range.</p>\n<p>Related guides: ")
    for n, step in enumerate((1, 7)):
        other = site._guides[(guide.index + step) % len(site._guides)]
        doc.raw(", " if n else "")
        doc.a("content", f"{other.slug}/" if base_href else f"../{other.slug}/", other.title)
    doc.raw(".</p>\n")
    if guide.slug == "size-guide":
        doc.a("content", "/media/size-guide.pdf", "Download the size chart (PDF)")
    elif guide.slug == "how-to-measure-yourself":
        doc.a("content", "../c/women/dresses/", "Shop dresses")
    elif guide.slug == "fabric-care-guide":
        doc.a("content", LOOP_A, "Care label decoder")
    elif guide.slug == "gift-guide":
        doc.a("content", "print/", "Print this guide", rel="nofollow")
    elif guide.slug == "shoe-fitting-guide":
        doc.a("content", "/media/size-guide.pdf#page=2", "Shoe size table (PDF)")
    doc.raw("\n</article>")
    _close(doc)
    return doc


def _render_guide_print(site: DemoSite, spec: _Spec) -> _Doc:
    guide = spec.data
    assert isinstance(guide, _Guide)
    doc = _Doc(spec.key)
    doc.raw('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
    doc.raw(f"<title>{escape(guide.title)} (print)</title>\n</head>\n<body>\n<main>\n")
    doc.raw(f"<h1>{escape(guide.title)}</h1>\n<p>Printer-friendly version.</p>\n")
    doc.a("content", guide.path, "Back to the online version")
    doc.raw("\n</main>\n</body>\n</html>\n")
    return doc


def _render_static(site: DemoSite, spec: _Spec) -> _Doc:
    title = str(spec.data)
    doc = _Doc(spec.key)
    _open(doc, spec, title, [("Home", "/"), (title, None)])
    doc.raw(f"<h1>{escape(title)}</h1>\n<p>")
    if spec.key == "/about/":
        doc.raw("Demo Shop started as a small café. Visit ")
        doc.a("content", LEGACY_PAGE, "our original café")
        doc.raw(" or read ")
        doc.a("content", "/guides/sustainability-guide/", "how we work")
    elif spec.key == "/contact/":
        doc.raw("Write to us any time. See also ")
        doc.a("content", "/shipping/", "shipping")
        doc.raw(" and ")
        doc.a("content", "/returns/", "returns")
    elif spec.key == "/shipping/":
        doc.raw("Free shipping over €50. ")
        doc.a("content", "/checkout/", "Proceed to checkout", rel="nofollow")
        doc.raw(" or read about ")
        doc.a("content", "/returns/", "returns")
    else:
        doc.a("content", "/media/returns-form.pdf", "Download the returns form (PDF)")
        doc.raw(", read ")
        doc.a("content", "/guides/returns-made-easy/", "Returns made easy")
        doc.raw(" or ")
        doc.a("content", "/contact/", "contact us")
    doc.raw(".</p>")
    _close(doc)
    return doc


def _render_legacy(site: DemoSite, spec: _Spec) -> _Doc:
    """Served as windows-1252: every character here must exist in cp1252."""
    doc = _Doc(spec.key)
    crumbs: Crumbs = [("Home", "/"), ("About us", "/about/"), ("Café crème", None)]
    _open(doc, spec, "Café crème", crumbs)
    doc.raw("<h1>Café crème</h1>\n<p>Where it all began: Café crème – 5 €.</p>\n<p>")
    doc.a("content", "/c/home/kitchen/", "Tasses à café – dès 5 €")
    doc.raw(" · ")
    doc.a("content", "/about/", "Back to our story")
    doc.raw("</p>")
    _close(doc)
    return doc


def _render_search(site: DemoSite, spec: _Spec) -> _Doc:
    term = str(spec.data)
    hits = [p for p in site._listed if term in p.name.lower()][:12]
    if not hits:
        hits = _page_rng(site, spec).sample(site._listed, 12)
    doc = _Doc(spec.key)
    label = term.replace("-", " ")
    _open(doc, spec, f"Search: {label}", [("Home", "/"), (f"Search: {label}", None)])
    doc.raw(f'<h1>Results for “{escape(label)}”</h1>\n<ul class="product-grid">\n')
    for product in hits:
        _product_card(doc, product)
    doc.raw("</ul>")
    _close(doc)
    return doc


def _render_account(site: DemoSite, spec: _Spec) -> _Doc:
    title = str(spec.data)
    doc = _Doc(spec.key)
    _open(doc, spec, title, [("Home", "/"), (title, None)])
    doc.raw(f"<h1>{escape(title)}</h1>\n<p>")
    links = {
        "/cart/": (("/", "Continue shopping"), ("/checkout/", "Checkout")),
        "/checkout/": (("/cart/", "Back to cart"), ("/shipping/", "Shipping information")),
        "/account/login/": (("/account/register/", "Create an account"),),
        "/account/register/": (("/account/login/", "Already have an account? Sign in"),),
    }[spec.key]
    for n, (href, text) in enumerate(links):
        doc.raw(" | " if n else "")
        doc.a("content", href, text)
    doc.raw("</p>")
    _close(doc)
    return doc


def _render_nothing(site: DemoSite, spec: _Spec) -> _Doc:
    """Redirects, PDFs and 404s: no links (the 404 body is the constant `_NOT_FOUND_HTML`)."""
    return _Doc(spec.key)


_CATEGORIES: tuple[tuple[str, str], ...] = tuple((c, n) for c, n, _ in _CATALOG)
_RENDERERS: dict[str, Callable[[DemoSite, _Spec], _Doc]] = {
    "home": _render_home,
    "category": _render_category,
    "subcategory": _render_listing,
    "listing": _render_listing,
    "product": _render_product,
    "variant": _render_product,
    "blog_index": _render_blog_index,
    "blog_post": _render_blog_post,
    "blog_tag": _render_blog_tag,
    "blog_amp": _render_blog_amp,
    "guide_index": _render_guide_index,
    "guide": _render_guide,
    "guide_print": _render_guide_print,
    "static": _render_static,
    "legacy": _render_legacy,
    "search": _render_search,
    "account": _render_account,
    "not_found": _render_nothing,
    "redirect": _render_nothing,
    "pdf": _render_nothing,
}
