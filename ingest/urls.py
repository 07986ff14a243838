"""The one URL normalizer every source uses, and the stable `url_key` derived from it.

Crawls, sitemaps, Search Console and backlink exports spell the same page in different ways
(`HTTP://Example.com:80/a?utm_source=x#top` vs `http://example.com/a`). Joining them in the
warehouse only works if every source goes through the same function, so this module is the single
place where that spelling is decided. URL work was a third of crawl CPU in a naive crawler, so the
hot paths are memoized per policy.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

DEFAULT_TRACKING_PARAMS: tuple[str, ...] = (
    "utm_*",
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "yclid",
)

TrailingSlash = Literal["keep", "add", "strip"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 unreserved characters never need escaping; everything else keeps its escaping.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters allowed to stay literal in a path / query component (reserved sub-delims included,
# since decoding them would change the meaning of the URL).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/:@!$'()*+,;-._~%?"


class InvalidURL(ValueError):
    """Raised when a string cannot be turned into an absolute http(s) URL."""


@dataclass(frozen=True)
class UrlPolicy:
    """Per-site normalization choices; hashable so results can be cached per policy.

    `sort_query` is off by default because some sites route on parameter order; turn it on where
    the site is known not to care so duplicates fold. `trailing_slash` is `keep` by default because
    `/a` and `/a/` are different URLs to a server; sites that treat them as one pick `add` or
    `strip`.
    """

    strip_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS
    sort_query: bool = False
    trailing_slash: TrailingSlash = "keep"
    drop_empty_query: bool = True

    def param_is_stripped(self, name: str) -> bool:
        return _param_matcher(self.strip_params)(name.lower())


DEFAULT_POLICY = UrlPolicy()


@lru_cache(maxsize=64)
def _param_matcher(patterns: tuple[str, ...]):
    exact = {p.lower() for p in patterns if not p.endswith("*")}
    prefixes = tuple(p[:-1].lower() for p in patterns if p.endswith("*"))

    def matches(name: str) -> bool:
        return name in exact or (bool(prefixes) and name.startswith(prefixes))

    return matches


def _normalize_pct(component: str, safe: str) -> str:
    """Decode escapes of unreserved characters, uppercase the rest, escape raw unsafe bytes."""
    if "%" in component:

        def fix(match: re.Match[str]) -> str:
            char = chr(int(match.group(1), 16))
            return char if char in _UNRESERVED else "%" + match.group(1).upper()

        component = _PCT_RE.sub(fix, component)
        # A lone '%' not followed by two hex digits is escaped so the result parses the same.
        component = re.sub(r"%(?![0-9A-F]{2})", "%25", component)
    return quote(component, safe=safe)


def _normalize_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidURL("URL has no host")
    if host.startswith("["):
        return host
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidURL(f"host {host!r} is not a valid IDNA name") from exc
    elif "%" in host:
        host = unquote(host)
    return host


def _normalize_query(query: str, policy: UrlPolicy) -> str:
    if not query:
        return ""
    kept: list[str] = []
    for part in query.split("&"):
        if not part:
            continue
        name = part.split("=", 1)[0]
        if policy.strip_params and policy.param_is_stripped(unquote(name)):
            continue
        kept.append(_normalize_pct(part, _QUERY_SAFE + "="))
    if policy.sort_query:
        kept.sort()
    return "&".join(kept)


@lru_cache(maxsize=262_144)
def _normalize_cached(url: str, policy: UrlPolicy) -> str:
    raw = url.strip()
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise InvalidURL(f"cannot parse URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"bad port in URL {url!r}") from exc
    host = _normalize_host(parts.hostname or "")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _normalize_pct(parts.path or "/", _PATH_SAFE)
    path = _remove_dot_segments(path)
    if policy.trailing_slash != "keep" and path != "/":
        last = path.rsplit("/", 1)[-1]
        if policy.trailing_slash == "strip":
            path = path.rstrip("/") or "/"
        elif "." not in last and not path.endswith("/"):
            path += "/"
    query = _normalize_query(parts.query, policy)
    return urlunsplit((scheme, netloc, path, query, ""))


def _remove_dot_segments(path: str) -> str:
    if "/." not in path:
        return path
    out: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def normalize_url(url: str, base: str | None = None, policy: UrlPolicy = DEFAULT_POLICY) -> str:
    """Return the canonical spelling of `url` (resolved against `base` when given).

    Raises InvalidURL for anything that is not an absolute http(s) URL after resolution, so a
    caller can quarantine the row with the message instead of silently dropping it.
    """
    if base is not None:
        url = join_url(base, url)
    return _normalize_cached(url, policy)


@lru_cache(maxsize=262_144)
def join_url(base: str, href: str) -> str:
    """`urljoin` memoized: the same relative hrefs recur on every page of a site."""
    return urljoin(base, href.strip())


def url_key(normalized_url: str) -> str:
    """Stable 16-hex-char id of an already normalized URL (join key across every source)."""
    return hashlib.blake2b(normalized_url.encode("utf-8"), digest_size=8).hexdigest()


@lru_cache(maxsize=65_536)
def registrable_domain(host: str) -> str:
    """eTLD+1 of a host from the public suffix list shipped in the package (never downloaded)."""
    host = host.lower().rstrip(".")
    if host.replace(".", "").isdigit() or host.startswith("[") or host == "localhost":
        return host
    result = _extractor()(host)
    return result.top_domain_under_public_suffix or host


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # suffix_list_urls=() and cache_dir=None: use the snapshot bundled with tldextract, no network.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
    )


def host_of(url: str) -> str:
    """Host (with port when non-default) of a normalized URL."""
    return urlsplit(url).netloc


@dataclass(frozen=True)
class Scope:
    """Which URLs belong to a site: explicit hosts, or every host under the same registrable domain."""

    allowed_hosts: frozenset[str]
    include_subdomains: bool = False
    _domains: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        if self.include_subdomains:
            domains = frozenset(registrable_domain(h.split(":")[0]) for h in self.allowed_hosts)
            object.__setattr__(self, "_domains", domains)

    def contains(self, normalized_url: str) -> bool:
        return _scope_contains(self, host_of(normalized_url))


@lru_cache(maxsize=65_536)
def _scope_contains(scope: Scope, netloc: str) -> bool:
    if netloc in scope.allowed_hosts:
        return True
    if scope.include_subdomains:
        return registrable_domain(netloc.split(":")[0]) in scope._domains
    return False
