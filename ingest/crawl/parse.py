"""Turn one fetched HTML response into a `ParsedPage`: SEO signals, main text and positioned links.

Built on selectolax's lexbor backend, the fastest parser measured here (see
docs/benchmarks.md / bench/extract.py). The page is parsed once; every signal comes from a few
CSS queries that lexbor runs in C, and the per-link Python work is kept to a handful of dict
lookups because a documentation page carries ~300 links.

Decisions worth knowing:

* Encoding follows browsers: BOM, then the HTTP charset, then a `<meta>` declaration in the first
  4 KB, then (undeclared) UTF-8 if the bytes are valid UTF-8, else charset-normalizer. The
  latin-1/ascii labels mean windows-1252, as in the WHATWG Encoding standard. In a non-UTF-8
  page the query of a non-ASCII href is percent-encoded in the page's encoding, as browsers do.
* The tree is built with scripting on, as browsers and Google's renderer build it: `<noscript>`
  content is text (its links do not count), and a `<noscript><img>` tracking pixel in `<head>`
  does not end the head early, so canonical/robots/hreflang are read from `<head>` only (search
  engines ignore a canonical in `<body>`).
* Hrefs resolve against `<base href>` (itself resolved against the page URL), fragments are
  dropped, so `href="#top"` becomes the page itself: a self-link the warehouse drops later.
  Anything that is not http(s) or does not parse lands in `skipped_hrefs` with a reason.
* Resolution is memoized per (UrlPolicy, Scope) across pages, keyed on the base's directory for
  relative paths, because the same menu hrefs recur on every page of a directory.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat
from urllib.parse import quote_from_bytes, urlsplit, urlunsplit

import charset_normalizer
from selectolax.lexbor import LexborHTMLParser, LexborNode

from ingest.crawl.positions import DEFAULT_RULES, REGION_CSS, PositionRules
from ingest.urls import DEFAULT_POLICY, InvalidURL, Scope, UrlPolicy, join_url, normalize_url

__all__ = [
    "ExtractedLink",
    "LinkColumns",
    "ParsedPage",
    "applicable_x_robots_tag",
    "decode_body",
    "looks_like_html",
    "parse_link_header",
    "parse_page",
    "resolve_encoding",
]


@dataclass(frozen=True, slots=True)
class ExtractedLink:
    """One `<a href>`/`<area href>` occurrence; column-for-column the landing LINKS_SCHEMA."""

    target_url: str
    href_raw: str
    anchor_text: str
    position: str
    link_index: int
    is_internal: bool
    is_nofollow: bool
    is_ugc: bool
    is_sponsored: bool
    is_image: bool
    rel: str


@dataclass(slots=True)
class LinkColumns:
    """A page's links as parallel columns (one list per LINKS_SCHEMA column, document order).

    This is what parse_page builds and what the crawler lands (parse_pool encodes the lists
    straight to bytes); an ExtractedLink per link is only made when `ParsedPage.links` is read.
    """

    target_url: list[str]
    href_raw: list[str]
    anchor_text: list[str]
    position: list[str]
    link_index: list[int]
    is_internal: list[bool]
    is_nofollow: list[bool]
    is_ugc: list[bool]
    is_sponsored: list[bool]
    is_image: list[bool]
    rel: list[str]

    def __len__(self) -> int:
        return len(self.target_url)

    def to_links(self) -> list[ExtractedLink]:
        """One frozen ExtractedLink per link (see _LinkRecord for the construction trick)."""
        record = _LinkRecord
        frozen = ExtractedLink
        links = []
        append = links.append
        for row in zip(
            self.target_url,
            self.href_raw,
            self.anchor_text,
            self.position,
            self.link_index,
            self.is_internal,
            self.is_nofollow,
            self.is_ugc,
            self.is_sponsored,
            self.is_image,
            self.rel,
            strict=True,
        ):
            link = record(*row)
            link.__class__ = frozen  # type: ignore[assignment]
            append(link)
        return links  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """Everything the crawler lands about one HTML page (see landing.PAGES_SCHEMA)."""

    encoding: str
    title: str | None
    h1: str | None
    meta_description: str | None
    canonical: str | None
    canonical_source: str | None
    meta_robots: str | None
    x_robots_tag: str | None
    is_noindex: bool
    is_nofollow_page: bool
    is_indexable: bool
    indexability_reason: str
    word_count: int
    content_hash: str
    hreflang: list[tuple[str, str]]
    base_href: str | None
    body_text: str
    link_columns: LinkColumns
    skipped_hrefs: list[tuple[str, str]]

    @property
    def links(self) -> list[ExtractedLink]:
        """The links as ExtractedLink objects (built on each access from `link_columns`)."""
        return self.link_columns.to_links()


# --------------------------------------------------------------------------------------------
# Encoding


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WHATWG_LABELS: dict[str, str] = {}
for _codec, _labels in {
    # WHATWG: the latin-1 and ascii labels all mean windows-1252.
    "cp1252": "ascii us-ascii ansi_x3.4-1968 cp1252 cp819 csisolatin1 ibm819 iso-8859-1 "
    "iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 latin-1 windows-1252 "
    "x-cp1252",
    "cp1254": "iso-8859-9 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 iso-ir-148 l5 latin5 "
    "csisolatin5 windows-1254 x-cp1254",
    "cp874": "iso-8859-11 iso8859-11 iso885911 tis-620 windows-874 dos-874",
    "gb18030": "gb2312 gbk x-gbk chinese csgb2312 csiso58gb231280 gb_2312 gb_2312-80 iso-ir-58 "
    "cp936 ms936 windows-936 gb18030",
    "cp949": "euc-kr ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 korean cseuckr "
    "csksc56011987 iso-ir-149 windows-949",
    "cp932": "shift_jis shift-jis sjis x-sjis ms_kanji ms932 windows-31j csshiftjis",
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "utf-8": "utf8 utf-8 unicode-1-1-utf-8 unicode11utf8 unicode20utf8 x-unicode20utf8",
}.items():
    for _label in _labels.split():
        _WHATWG_LABELS[_label] = _codec

_HTTP_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?\s*([^\s;\"',]+)", re.I)
_META_CHARSET_RE = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_:.+-]+)", re.I)
_META_PRESCAN_BYTES = 4096
_DETECT_BYTES = 64 * 1024


def _browser_c1(error: UnicodeError) -> tuple[str, int]:
    """windows-1252 as browsers decode it: the 5 bytes cp1252 leaves undefined map to C1."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(chr(b) for b in chunk), error.end


codecs.register_error("linkwarehouse_c1", _browser_c1)


def _codec_for_label(label: str, *, from_meta: bool = False) -> str | None:
    """Python codec for an encoding label, following WHATWG where Python's aliases differ."""
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    if label in _WHATWG_LABELS:
        return _WHATWG_LABELS[label]
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # base64, zlib and friends are not page encodings
    name = info.name
    if from_meta and name.startswith("utf-16"):
        return "utf-8"  # a page that can declare itself in ASCII is not UTF-16 (HTML spec)
    return _WHATWG_LABELS.get(name, name)


def resolve_encoding(body: bytes, content_type: str | None) -> tuple[str, int, str]:
    """(codec, bytes to skip for a BOM, source) where source is bom/http/meta/detected."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, len(bom), "bom"
    if content_type:
        match = _HTTP_CHARSET_RE.search(content_type)
        codec = _codec_for_label(match.group(1)) if match else None
        if codec:
            return codec, 0, "http"
    match = _META_CHARSET_RE.search(body, 0, _META_PRESCAN_BYTES)
    if match:
        codec = _codec_for_label(match.group(1).decode("ascii"), from_meta=True)
        if codec:
            return codec, 0, "meta"
    return _detect_encoding(body), 0, "detected"


def _detect_encoding(body: bytes) -> str:
    """Undeclared: valid UTF-8 is UTF-8 (ASCII included); else ask charset-normalizer."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # A prefix is enough to tell an encoding and bounds the cost on large pages.
    best = charset_normalizer.from_bytes(body[:_DETECT_BYTES]).best()
    if best is not None:
        codec = _codec_for_label(best.encoding)
        if codec:
            return codec
    return "cp1252"  # what browsers in western locales fall back to


def _decode(body: bytes, codec: str, skip: int = 0) -> str:
    errors = "linkwarehouse_c1" if codec == "cp1252" else "replace"
    return body[skip:].decode(codec, errors)


def decode_body(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(text, encoding) of a response body, decoded the way a browser would."""
    codec, skip, _ = resolve_encoding(body, content_type)
    return _decode(body, codec, skip), codec


_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SNIFF_TYPES = (
    "",
    "application/octet-stream",
    "text/plain",
    "application/unknown",
    "unknown/unknown",
)
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")


def looks_like_html(content_type: str | None, body_prefix: bytes) -> bool:
    """True for HTML content types; sniff the first 512 bytes when the type says nothing useful."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _HTML_TYPES:
        return True
    if mime not in _SNIFF_TYPES:
        return False
    head = body_prefix[:512].lower()
    return any(marker in head for marker in _HTML_MARKERS)


# --------------------------------------------------------------------------------------------
# Robots directives and Link headers

_AGENT_PREFIX_RE = re.compile(r"^([a-z0-9_.-]+)\s*:\s*(.*)$", re.I | re.S)
# Directives that carry their own colon; a token starting with one of these is not an agent.
_COLON_DIRECTIVES = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
_ROBOTS_AGENTS = frozenset({"googlebot"})


def applicable_x_robots_tag(value: str, agents: frozenset[str] = _ROBOTS_AGENTS) -> str | None:
    """The X-Robots-Tag directives that apply to a generic crawler or to `agents` (lowercased).

    `googlebot: noindex` applies, `otherbot: noindex` does not; an agent prefix applies to the
    directives after it up to the next prefix, as Google reads the header.
    """
    kept: list[str] = []
    agent: str | None = None
    for token in value.split(","):
        token = token.strip()
        if not token:
            continue
        match = _AGENT_PREFIX_RE.match(token)
        if match and match.group(1).lower() not in _COLON_DIRECTIVES:
            agent = match.group(1).lower()
            if not match.group(2).strip():
                continue
        if agent is None or agent in agents:
            kept.append(token.lower())
    return ", ".join(kept) if kept else None


def _directive_names(text: str | None) -> set[str]:
    """{'noindex', 'follow', 'max-snippet', ...} from a robots value (agent prefixes dropped)."""
    names: set[str] = set()
    if not text:
        return names
    for token in re.split(r"[,\s]+", text.lower()):
        if not token:
            continue
        match = _AGENT_PREFIX_RE.match(token)
        if match and match.group(1) not in _COLON_DIRECTIVES and match.group(2):
            token = match.group(2)
        names.add(token.split(":", 1)[0].strip())
    return names


_LINK_VALUE_RE = re.compile(r"<([^>]*)>([^<]*)")
_LINK_PARAM_RE = re.compile(r";\s*([a-z*-]+)\s*=\s*(?:\"([^\"]*)\"|([^\s;,\"]+))", re.I)


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """[(uri, {param: value})] from an HTTP Link header (RFC 8288), params lowercased by name."""
    out: list[tuple[str, dict[str, str]]] = []
    for match in _LINK_VALUE_RE.finditer(value):
        params = {
            m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
            for m in _LINK_PARAM_RE.finditer(match.group(2))
        }
        out.append((match.group(1).strip(), params))
    return out


# --------------------------------------------------------------------------------------------
# Href resolution (memoized across pages)

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# `scheme://host...` with a host: urljoin returns it without reading the base beyond its scheme
# (an empty host, `http:///x`, would take the base's; urlsplit drops tabs and newlines).
_ABSOLUTE_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s]")
_TAB_NEWLINE_RE = re.compile(r"[\t\n\r]")
_Resolved = tuple[str | None, bool, str | None]  # (target, is_internal, skip reason)
_RESOLVER_CACHE_LIMIT = 200_000
_resolvers: dict[tuple[UrlPolicy, Scope], _Resolver] = {}
_URL_SAFE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
_FULL_BASE_FIRST = frozenset("?# \t\n\r\x0c")


class _Resolver:
    """Href -> (normalized target, is_internal, skip reason) for one (policy, scope), memoized.

    A relative path resolves the same way against every base in one directory, so those entries
    live in a per-directory memo; hrefs that depend on the full base (`?q`, empty, leading
    space) live in a per-base memo. Dict operations are atomic under the GIL, so threads may
    share a resolver; everything is dropped when the number of entries passes the limit.
    """

    __slots__ = ("policy", "scope", "dirs", "bases", "schemes", "misses")

    def __init__(self, policy: UrlPolicy, scope: Scope) -> None:
        self.policy = policy
        self.scope = scope
        self.dirs: dict[str, dict[str, _Resolved]] = {}
        self.bases: dict[str, dict[str, _Resolved]] = {}
        # `scheme://` hrefs by the base's scheme (urljoin only looks at that for them)
        self.schemes: dict[str, dict[str, _Resolved]] = {}
        self.misses = 0

    def by_dir(self, directory: str) -> dict[str, _Resolved]:
        memo = self.dirs.get(directory)
        if memo is None:
            memo = self.dirs[directory] = {}
        return memo

    def by_base(self, base: str) -> dict[str, _Resolved]:
        memo = self.bases.get(base)
        if memo is None:
            memo = self.bases[base] = {}
        return memo

    def by_scheme(self, scheme: str) -> dict[str, _Resolved]:
        memo = self.schemes.get(scheme)
        if memo is None:
            memo = self.schemes[scheme] = {}
        return memo

    def compute(self, href: str, base: str, encoding: str = "utf-8") -> _Resolved:
        self.misses += 1
        if "\n" in href or "\t" in href or "\r" in href:
            href = _TAB_NEWLINE_RE.sub("", href)  # browsers drop them anywhere in a URL
        match = _SCHEME_RE.match(href)
        if match:
            scheme = match.group(1).lower()
            if scheme not in ("http", "https"):
                return None, False, f"scheme:{scheme}"
        if encoding != "utf-8" and not href.isascii():
            href = _encode_query(href, encoding)
        try:
            target = normalize_url(href, base=base, policy=self.policy)
        except (InvalidURL, ValueError) as exc:
            return None, False, f"invalid_url: {exc}"
        return target, self.scope.contains(target), None

    def check_size(self) -> None:
        if self.misses > _RESOLVER_CACHE_LIMIT:
            self.dirs.clear()
            self.bases.clear()
            self.schemes.clear()
            self.misses = 0


def _resolver_for(policy: UrlPolicy, scope: Scope) -> _Resolver:
    resolver = _resolvers.get((policy, scope))
    if resolver is None:
        if len(_resolvers) > 64:
            _resolvers.clear()
        resolver = _resolvers[(policy, scope)] = _Resolver(policy, scope)
    return resolver


def _encode_query(href: str, encoding: str) -> str:
    """Percent-encode a non-ASCII query in the page encoding (the URL standard's override)."""
    start = href.find("?")
    if start < 0:
        return href
    end = href.find("#", start)
    end = len(href) if end < 0 else end
    query = href[start + 1 : end]
    if query.isascii():
        return href
    try:
        raw = query.encode(encoding, "xmlcharrefreplace")
    except LookupError:
        return href
    return href[: start + 1] + quote_from_bytes(raw, safe=_URL_SAFE_ASCII) + href[end:]


def _directory_of(base: str) -> str:
    """`https://h/a/b.html?x` -> `https://h/a/`: what a relative path resolves against."""
    parts = urlsplit(base)
    path = parts.path
    directory = path[: path.rfind("/") + 1] or "/"
    return urlunsplit((parts.scheme, parts.netloc, directory, "", ""))


# --------------------------------------------------------------------------------------------
# Page parsing

# One walk over the document finds links, images (for image links), the first h1 and the
# element/role-named regions; lexbor tests every selector on every node, so the list stays short.
# Non-text elements are collected in the same walk so the text step needs no query of its own.
_NON_TEXT = ("script", "style", "noscript", "template")
_BODY_CSS = "a[href], area[href], img, h1, " + ", ".join(_NON_TEXT) + ", " + REGION_CSS
_HEAD_CSS = "title, base[href], link[rel][href], meta[name][content]"


def _tag_ids() -> dict[str, int]:
    """lexbor's numeric tag ids (comparing ints is cheaper than reading `.tag` strings)."""
    factory = LexborHTMLParser("")
    return {
        name: factory.create_node(name).tag_id for name in ("a", "area", "img", "h1", *_NON_TEXT)
    }


_TAG_ID = _tag_ids()
_A, _AREA, _IMG, _H1 = (_TAG_ID[name] for name in ("a", "area", "img", "h1"))
_NON_TEXT_IDS = frozenset(_TAG_ID[name] for name in _NON_TEXT)


@dataclass(slots=True)
class _LinkRecord:
    """Mutable twin of ExtractedLink with the identical slot layout, for fast construction.

    A frozen dataclass sets each field through object.__setattr__, which costs ~3x a plain
    slots __init__; with ~300 links a page that was a tenth of the parse. The extraction loop
    builds a _LinkRecord and assigns `__class__ = ExtractedLink`, a supported CPython operation
    between classes with identical `__slots__`: the result is a genuine, frozen ExtractedLink.
    """

    target_url: str
    href_raw: str
    anchor_text: str
    position: str
    link_index: int
    is_internal: bool
    is_nofollow: bool
    is_ugc: bool
    is_sponsored: bool
    is_image: bool
    rel: str


if _LinkRecord.__slots__ != ExtractedLink.__slots__:  # type: ignore[attr-defined]
    raise TypeError("_LinkRecord must mirror ExtractedLink's fields, in order")


def _collapse(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


@dataclass(slots=True)
class _HeadInfo:
    title: str | None = None
    base_raw: str | None = None
    description: str | None = None
    canonical_raw: str | None = None
    robots: list[str] = field(default_factory=list)
    hreflang_raw: list[tuple[str, str]] = field(default_factory=list)


def _read_head(tree: LexborHTMLParser) -> _HeadInfo:
    """Title, base, description, canonical, robots metas and hreflang from `<head>`.

    Only `<head>` is searched (search engines ignore a canonical in `<body>`), which is cheap:
    the head is a few dozen nodes. The tree is built with scripting on, as a browser does, so a
    `<noscript><img>` tracking pixel does not end the head early.
    """
    info = _HeadInfo()
    head = tree.head
    if head is None:
        return info
    for node in head.css(_HEAD_CSS):
        tag = node.tag
        attrs = node.attributes
        if tag == "link":
            rels = (attrs.get("rel") or "").lower().split()
            href = attrs.get("href") or ""
            if "canonical" in rels:
                if info.canonical_raw is None:
                    info.canonical_raw = href
            elif "alternate" in rels and attrs.get("hreflang"):
                info.hreflang_raw.append(((attrs.get("hreflang") or "").strip(), href))
        elif tag == "meta":
            name = (attrs.get("name") or "").strip().lower()
            content = (attrs.get("content") or "").strip()
            if name in ("robots", "googlebot") and content:
                info.robots.append(content.lower())
            elif name == "description" and info.description is None:
                info.description = _collapse(content)
        elif tag == "title":
            if info.title is None:
                info.title = _collapse(node.text_lexbor())
        elif tag == "base" and info.base_raw is None:
            info.base_raw = attrs.get("href") or ""
    return info


@dataclass(slots=True)
class _BodyNodes:
    links: list[LexborNode] = field(default_factory=list)
    areas: set[int] = field(default_factory=set)  # indexes into `links` of <area> elements
    images: list[LexborNode] = field(default_factory=list)
    h1: LexborNode | None = None
    regions: list[LexborNode] = field(default_factory=list)  # REGION_CSS matches
    non_text: list[LexborNode] = field(default_factory=list)  # script, style, noscript, template


def _scan_body(tree: LexborHTMLParser) -> _BodyNodes:
    """Split the one document walk's matches by kind (document order is kept).

    lexbor reports a node once per selector of the list it matches, consecutively (an
    `<a href role=button>` matches `a[href]` and `[role]`), so repeats are skipped.
    """
    found = _BodyNodes()
    links, images = found.links, found.images
    previous = 0
    for node in tree.css(_BODY_CSS):
        key = node.mem_id
        if key == previous:
            continue
        previous = key
        tag_id = node.tag_id
        if tag_id == _A:
            links.append(node)
        elif tag_id == _AREA:
            found.areas.add(len(links))
            links.append(node)
        elif tag_id == _IMG:
            images.append(node)
        elif tag_id == _H1:
            if found.h1 is None:
                found.h1 = node
        elif tag_id in _NON_TEXT_IDS:
            found.non_text.append(node)
        else:
            found.regions.append(node)
    return found


def _image_alts(images: list[LexborNode]) -> dict[int, str]:
    """mem_id of each link that wraps an <img> -> the alt text of its images ('' if none)."""
    alts: dict[int, list[str]] = {}
    for img in images:
        node = img.parent
        while node is not None and node.tag_id != _A:
            node = node.parent
        if node is not None:
            alt = _collapse(img.attributes.get("alt"))
            bucket = alts.setdefault(node.mem_id, [])
            if alt:
                bucket.append(alt)
    return {key: " ".join(values) for key, values in alts.items()}


def _main_words(
    tree: LexborHTMLParser,
    main: LexborNode | None,
    boilerplate: list[LexborNode],
    non_text: list[LexborNode],
) -> list[str]:
    """Words of the main content: the main element (or body) minus boilerplate and scripts.

    Mutates the tree, so it runs after everything else has been read. Scripts, styles,
    noscripts and templates are leaves in a tree built with scripting on, so they go first,
    anywhere in the document; then the boilerplate regions inside the chosen root, deepest
    first, so no node is freed after an ancestor already freed it.
    """
    root = main if main is not None else tree.body
    if root is None:
        return []
    for node in non_text:
        node.decompose()
    whole_body = main is None
    root_id = root.mem_id
    for region in reversed(boilerplate):
        if whole_body or _descends_from(region, root_id):
            region.decompose()
    return root.text(separator=" ").split()


# Text nodes are joined with a space, so `<p>a</p><p>b</p>` never merges into "ab"; the price
# is a space before punctuation that follows inline markup (`<code>f()</code>, x` -> "f() , x").
# These replacements put it back, so such marks neither count as words nor change the hash.
_SPACED_PUNCTUATION = (
    (" , ", ", "),
    (" . ", ". "),
    (" ; ", "; "),
    (" : ", ": "),
    (" ! ", "! "),
    (" ? ", "? "),
    (" ) ", ") "),
    (" ( ", " ("),
)


def _normalized_text(words: list[str]) -> str:
    """One space between words, punctuation reattached (see above)."""
    text = " " + " ".join(words) + " "
    for spaced, tight in _SPACED_PUNCTUATION:
        if spaced in text:
            text = text.replace(spaced, tight)
    return text.strip()


def _descends_from(node: LexborNode, ancestor_id: int) -> bool:
    current = node.parent
    while current is not None:
        if current.mem_id == ancestor_id:
            return True
        current = current.parent
    return False


def _prepare_document(body: bytes, content_type: str | None) -> tuple[bytes | str, str]:
    """What to hand lexbor: UTF-8 bytes as they are (lexbor decodes them), anything else as str."""
    codec, skip, _ = resolve_encoding(body, content_type)
    if codec == "utf-8":
        return (body[skip:] if skip else body), codec
    return _decode(body, codec, skip), codec


def parse_page(
    body: bytes,
    url: str,
    *,
    status: int,
    headers: Mapping[str, str],
    scope: Scope,
    policy: UrlPolicy = DEFAULT_POLICY,
    position_rules: PositionRules | None = None,
    max_body_text_chars: int = 20_000,
) -> ParsedPage:
    """Parse one HTML response fetched from `url` (the final URL, after redirects).

    `headers` maps lowercase header names to values (repeated headers joined with ", ").
    Thread-safe: every call builds its own tree; the shared memo caches are plain dicts whose
    single operations are atomic under the GIL.
    """
    document, encoding = _prepare_document(body, headers.get("content-type"))
    tree = LexborHTMLParser(document, scripting=True)
    head = _read_head(tree)
    found = _scan_body(tree)
    resolver = _resolver_for(policy, scope)
    skipped: list[tuple[str, str]] = []

    base_href = _base_href(url, head.base_raw, skipped)
    base = base_href or url
    canonical, canonical_source = _canonical(head, headers, url, base, resolver, encoding, skipped)
    hreflang = _hreflang(head, headers, url, base, resolver, encoding, skipped)
    rules = position_rules or DEFAULT_RULES
    regions = rules.regions(tree, found.regions, document)
    links = _extract_links(found, regions.by_link, base, encoding, resolver, skipped)
    h1 = _collapse(found.h1.text(separator=" ")) if found.h1 is not None else None
    words = _main_words(tree, regions.main, regions.boilerplate, found.non_text)

    meta_robots = ", ".join(head.robots) if head.robots else None
    x_robots_raw = headers.get("x-robots-tag")
    x_robots = applicable_x_robots_tag(x_robots_raw) if x_robots_raw else None
    directives = _directive_names(meta_robots) | _directive_names(x_robots)
    is_noindex = "noindex" in directives or "none" in directives  # "none" = noindex, nofollow
    reason = _indexability(status, is_noindex, canonical, _normalized_or_raw(url, policy))
    text = _normalized_text(words)
    return ParsedPage(
        encoding=encoding,
        title=head.title,
        h1=h1,
        meta_description=head.description,
        canonical=canonical,
        canonical_source=canonical_source,
        meta_robots=meta_robots,
        x_robots_tag=x_robots,
        is_noindex=is_noindex,
        is_nofollow_page="nofollow" in directives or "none" in directives,
        is_indexable=reason == "indexable",
        indexability_reason=reason,
        word_count=text.count(" ") + 1 if text else 0,
        content_hash=hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest(),
        hreflang=hreflang,
        base_href=base_href,
        body_text=text[: max(max_body_text_chars, 0)],
        link_columns=links,
        skipped_hrefs=skipped,
    )


def _base_href(url: str, raw: str | None, skipped: list[tuple[str, str]]) -> str | None:
    """`<base href>` resolved against the page URL; ignored (and reported) unless http(s)."""
    if raw is None:
        return None
    try:
        joined = join_url(url, raw)
    except ValueError:
        joined = ""
    if joined.startswith(("http://", "https://")):
        return joined
    skipped.append((raw, "base:invalid_url"))  # browsers fall back to the document URL
    return None


def _normalized_or_raw(url: str, policy: UrlPolicy) -> str:
    try:
        return normalize_url(url, policy=policy)
    except InvalidURL:
        return url


def _indexability(status: int, is_noindex: bool, canonical: str | None, page_url: str) -> str:
    if status != 200:
        return "non_200"
    if is_noindex:
        return "noindex"
    if canonical is not None and canonical != page_url:
        return "canonicalised"
    return "indexable"


def _canonical(
    head: _HeadInfo,
    headers: Mapping[str, str],
    url: str,
    base: str,
    resolver: _Resolver,
    encoding: str,
    skipped: list[tuple[str, str]],
) -> tuple[str | None, str | None]:
    """HTML <link rel=canonical> wins; else the HTTP Link header's rel=canonical."""
    if head.canonical_raw is not None:
        target, _, reason = resolver.compute(head.canonical_raw.strip(), base, encoding)
        if target is not None:
            return target, "html"
        skipped.append((head.canonical_raw, f"canonical:{reason}"))
    link_header = headers.get("link")
    if link_header:
        for uri, params in parse_link_header(link_header):
            if "canonical" in params.get("rel", "").lower().split():
                target, _, reason = resolver.compute(uri, url)
                if target is not None:
                    return target, "header"
                skipped.append((uri, f"canonical:{reason}"))
    return None, None


def _hreflang(
    head: _HeadInfo,
    headers: Mapping[str, str],
    url: str,
    base: str,
    resolver: _Resolver,
    encoding: str,
    skipped: list[tuple[str, str]],
) -> list[tuple[str, str]]:
    """(lang, normalized href) from <link rel=alternate hreflang>, then from the Link header."""
    raw = [(lang, href, base, encoding) for lang, href in head.hreflang_raw]
    link_header = headers.get("link")
    if link_header and "hreflang" in link_header.lower():
        for uri, params in parse_link_header(link_header):
            if "alternate" in params.get("rel", "").lower().split() and params.get("hreflang"):
                raw.append((params["hreflang"].strip(), uri, url, "utf-8"))
    out: list[tuple[str, str]] = []
    for lang, href, against, page_encoding in raw:
        target, _, reason = resolver.compute(href.strip(), against, page_encoding)
        if target is None:
            skipped.append((href, f"hreflang:{reason}"))
        else:
            out.append((lang, target))
    return out


def _extract_links(
    found: _BodyNodes,
    positions: dict[int, str],
    base: str,
    encoding: str,
    resolver: _Resolver,
    skipped: list[tuple[str, str]],
) -> LinkColumns:
    """All links in document order with resolved targets, rel flags, anchors and positions.

    The crawler's hot loop. Per link it is one attribute read, one text read and a memo lookup
    keyed on the raw href; everything that is constant for most links (rel flags, image flags,
    positions, link_index) is filled in per page after the loop, as whole columns.
    """
    by_dir = resolver.by_dir(_directory_of(base))
    by_base = resolver.by_base(base)
    compute = resolver.compute
    utf8 = encoding == "utf-8"
    areas = found.areas
    full_base_first = _FULL_BASE_FIRST
    hrefs: list[str] = []
    anchors: list[str] = []
    results: list[_Resolved] = []
    rels: list[str | None] = []
    keys: list[int] = []  # mem_id of each kept link (positions and image links key on it)
    area_alts: list[tuple[int, str | None]] = []  # (column index, alt) of <area> links
    absolute: dict[str, _Resolved] | None = None
    for i, node in enumerate(found.links):
        attrs = node.attributes
        href = attrs.get("href") or ""
        if utf8 or href.isascii():
            # A relative path resolves alike against every base in one directory; anything that
            # may depend on the full base (query, fragment only, empty, leading space) keys on
            # the base. Memo keys are raw hrefs: `a.html#x` holds what `a.html` resolves to (the
            # fragment never reaches the target; a key without `#` is its own fragment-less ref).
            memo = by_base if not href or href[0] in full_base_first else by_dir
            resolved = memo.get(href)
            if resolved is None:
                cut = href.find("#")
                ref = href if cut < 0 else href[:cut]
                resolved = memo.get(ref) if cut >= 0 else None
                if resolved is None:
                    if _ABSOLUTE_RE.match(ref):  # `scheme://...`: the same in every directory
                        if absolute is None:
                            absolute = resolver.by_scheme(base[: base.find(":")].lower())
                        resolved = absolute.get(ref)
                        if resolved is None:
                            resolved = absolute[ref] = compute(ref.strip(), base)
                    else:
                        resolved = compute(ref.strip(), base)
                    memo[ref] = resolved
                if cut >= 0:
                    memo[href] = resolved
                    resolver.misses += 1  # an entry too: keeps the memo's size bounded
        else:
            cut = href.find("#")
            ref = href if cut < 0 else href[:cut]
            if ref.isascii():
                memo = by_base if not ref or ref[0] in full_base_first else by_dir
                resolved = memo.get(ref)
                if resolved is None:
                    resolved = memo[ref] = compute(ref.strip(), base)
            else:
                resolved = compute(ref.strip(), base, encoding)
        if resolved[0] is None:
            skipped.append((href, resolved[2] or "invalid_url"))
            continue
        if areas and i in areas:  # an image-map region: its text is its alt
            area_alts.append((len(hrefs), attrs.get("alt")))
        results.append(resolved)
        hrefs.append(href)
        rels.append(attrs.get("rel"))
        keys.append(node.mem_id)
        anchor = node.text_lexbor()
        anchors.append(" ".join(anchor.split()) if anchor else "")
    resolver.check_size()

    n = len(hrefs)
    targets = [r[0] for r in results]
    internal = [r[1] for r in results]
    position = (
        list(map(positions.get, keys, repeat("content", n))) if positions else ["content"] * n
    )
    is_image = [False] * n
    if found.images:
        image_alts = _image_alts(found.images)
        if image_alts:
            column_of = {key: j for j, key in enumerate(keys)}
            for key, alt in image_alts.items():
                j = column_of.get(key)
                if j is not None:
                    is_image[j] = True
                    anchors[j] = anchors[j] or alt
    for j, alt in area_alts:
        is_image[j] = True
        anchors[j] = anchors[j] or _collapse(alt)
    if any(rels):
        rel_col, nofollow, ugc, sponsored = _rel_columns(rels)
    else:
        rel_col, nofollow, ugc, sponsored = [""] * n, [False] * n, [False] * n, [False] * n
    return LinkColumns(
        target_url=targets,
        href_raw=hrefs,
        anchor_text=anchors,
        position=position,
        link_index=list(range(n)),
        is_internal=internal,
        is_nofollow=nofollow,
        is_ugc=ugc,
        is_sponsored=sponsored,
        is_image=is_image,
        rel=rel_col,
    )


def _rel_columns(
    rels: list[str | None],
) -> tuple[list[str], list[bool], list[bool], list[bool]]:
    """(rel lowercased or "", nofollow, ugc, sponsored) per link, computed once per distinct rel."""
    seen: dict[str | None, tuple[str, bool, bool, bool]] = {}
    rows = []
    for rel in rels:
        row = seen.get(rel)
        if row is None:
            if rel:
                lowered = rel.lower()
                tokens = lowered.split()
                row = (lowered, "nofollow" in tokens, "ugc" in tokens, "sponsored" in tokens)
            else:
                row = ("", False, False, False)
            seen[rel] = row
        rows.append(row)
    rel_col, nofollow, ugc, sponsored = (list(column) for column in zip(*rows, strict=True))
    return rel_col, nofollow, ugc, sponsored
