"""The URL normalizer: explicit cases checked by hand, and properties that must hold for any URL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.urls import (
    InvalidURL,
    Scope,
    UrlPolicy,
    normalize_url,
    registrable_domain,
    url_key,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM:80/a", "http://example.com/a"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/%7euser/%e2%82%ac", "http://example.com/~user/%E2%82%AC"),
        ("http://example.com/a b", "http://example.com/a%20b"),
        ("http://example.com/50%", "http://example.com/50%25"),
        ("http://bücher.de/", "http://xn--bcher-kva.de/"),
        ("http://example.com./", "http://example.com/"),
        ("http://example.com/?utm_source=x&utm_medium=y&id=3", "http://example.com/?id=3"),
        ("http://example.com/?gclid=1&fbclid=2", "http://example.com/"),
        ("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"),
        ("http://example.com/?q=a%2fb", "http://example.com/?q=a%2Fb"),
        ("http://example.com/?&&a=1&", "http://example.com/?a=1"),
    ],
)
def test_normalize_url_spells_each_url_one_way(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_relative_urls_resolve_against_the_base() -> None:
    base = "http://example.com/shop/shoes/"
    assert normalize_url("../bags/", base=base) == "http://example.com/shop/bags/"
    assert normalize_url("//cdn.example.com/x", base=base) == "http://cdn.example.com/x"
    assert normalize_url("?page=2", base=base) == "http://example.com/shop/shoes/?page=2"


def test_query_order_and_trailing_slash_follow_the_site_policy() -> None:
    sorted_policy = UrlPolicy(sort_query=True)
    assert normalize_url("http://a.com/?b=2&a=1", policy=sorted_policy) == "http://a.com/?a=1&b=2"
    add = UrlPolicy(trailing_slash="add")
    assert normalize_url("http://a.com/dir", policy=add) == "http://a.com/dir/"
    assert normalize_url("http://a.com/file.html", policy=add) == "http://a.com/file.html"
    strip = UrlPolicy(trailing_slash="strip")
    assert normalize_url("http://a.com/dir/", policy=strip) == "http://a.com/dir"
    assert normalize_url("http://a.com/", policy=strip) == "http://a.com/"


def test_tracking_parameters_are_configurable() -> None:
    policy = UrlPolicy(strip_params=("sessionid", "ref_*"))
    url = "http://a.com/?sessionid=9&ref_src=tw&utm_source=x"
    assert normalize_url(url, policy=policy) == "http://a.com/?utm_source=x"


@pytest.mark.parametrize(
    "bad",
    [
        "mailto:a@b.c",
        "javascript:void(0)",
        "ftp://a.com/",
        "/relative",
        "http://",
        "http://a.com:99999/",
    ],
)
def test_non_http_urls_raise_a_clear_error(bad: str) -> None:
    with pytest.raises(InvalidURL, match="URL|host|port"):
        normalize_url(bad)


def test_url_key_is_stable_and_distinguishes_urls() -> None:
    assert url_key("http://example.com/") == url_key("http://example.com/")
    assert url_key("http://example.com/") != url_key("http://example.com/a")
    assert len(url_key("http://example.com/")) == 16


def test_registrable_domain_uses_the_bundled_public_suffix_list() -> None:
    assert registrable_domain("www.bbc.co.uk") == "bbc.co.uk"
    assert registrable_domain("shop.example.com") == "example.com"
    assert registrable_domain("127.0.0.1") == "127.0.0.1"


def test_scope_by_host_or_by_registrable_domain() -> None:
    exact = Scope(frozenset({"www.example.co.uk"}))
    assert exact.contains("http://www.example.co.uk/a")
    assert not exact.contains("http://shop.example.co.uk/a")
    wide = Scope(frozenset({"www.example.co.uk"}), include_subdomains=True)
    assert wide.contains("http://shop.example.co.uk/a")
    assert not wide.contains("http://other.co.uk/")


_segment = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12
)
_hosts = st.sampled_from(
    ["Example.com", "a.b.example.org", "127.0.0.1:8080", "bücher.de", "x.co.uk:443"]
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    path = "/".join(draw(st.lists(_segment, max_size=4)))
    query = "&".join(
        f"{k}={v}" for k, v in draw(st.lists(st.tuples(_segment, _segment), max_size=3))
    )
    frag = draw(_segment)
    url = f"{scheme}://{draw(_hosts)}/{path}"
    if query:
        url += "?" + query
    if frag:
        url += "#" + frag
    return url


@settings(max_examples=400, deadline=None)
@given(urls(), st.sampled_from([UrlPolicy(), UrlPolicy(sort_query=True, trailing_slash="add")]))
def test_normalizing_twice_changes_nothing(url: str, policy: UrlPolicy) -> None:
    try:
        once = normalize_url(url, policy=policy)
    except InvalidURL:
        return
    assert normalize_url(once, policy=policy) == once
    assert "#" not in once


@settings(max_examples=200, deadline=None)
@given(urls())
def test_normalized_urls_are_ascii_and_absolute(url: str) -> None:
    try:
        once = normalize_url(url)
    except InvalidURL:
        return
    assert once.isascii()
    assert once.startswith(("http://", "https://"))
