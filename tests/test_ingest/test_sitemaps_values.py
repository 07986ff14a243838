"""Values inside sitemaps: lastmod in every W3C form, invalid ones kept raw and flagged,
priorities and changefreqs, URL normalization (and its shortcut), rows as they land."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.sitemaps.dates import lastmod_micros, parse_feed_datetime, parse_w3c_datetime
from ingest.sitemaps.entries import News, UrlEntry, Video
from ingest.sitemaps.fastnorm import is_normal, normalize_loc
from ingest.sitemaps.rows import UrlRows
from ingest.sitemaps.schema import SITEMAP_URLS_SCHEMA
from ingest.urls import DEFAULT_POLICY, UrlPolicy, normalize_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2005", datetime(2005, 1, 1, tzinfo=UTC)),
        ("2005-07", datetime(2005, 7, 1, tzinfo=UTC)),
        ("2005-07-16", datetime(2005, 7, 16, tzinfo=UTC)),
        ("2005-07-16T19:20+01:00", datetime(2005, 7, 16, 18, 20, tzinfo=UTC)),
        ("2005-07-16T19:20:30+01:00", datetime(2005, 7, 16, 18, 20, 30, tzinfo=UTC)),
        ("2005-07-16T19:20:30.45+01:00", datetime(2005, 7, 16, 18, 20, 30, 450000, tzinfo=UTC)),
        ("2004-12-23T18:00:15+00:00", datetime(2004, 12, 23, 18, 0, 15, tzinfo=UTC)),
        ("2020-05-19T21:57:45Z", datetime(2020, 5, 19, 21, 57, 45, tzinfo=UTC)),
        # near misses real generators write; unambiguous, so read (no zone = UTC)
        ("2020-05-19 21:57:45", datetime(2020, 5, 19, 21, 57, 45, tzinfo=UTC)),
        ("2020-05-19T21:57:45+0200", datetime(2020, 5, 19, 19, 57, 45, tzinfo=UTC)),
        (" 2024-06-30\n", datetime(2024, 6, 30, tzinfo=UTC)),
    ],
)
def test_every_w3c_datetime_form_is_read_as_utc(raw: str, expected: datetime) -> None:
    assert parse_w3c_datetime(raw) == expected


@pytest.mark.parametrize(
    "raw", ["2024-13-01", "2024-02-30", "yesterday", "30/06/2024", "2024-06-30T25:00Z", "", "0001",
            "2024-06-30T10:00+25:00", "Sat, 13 Dec 2003 18:30:02 GMT"]
)  # fmt: skip
def test_values_that_are_not_w3c_datetimes_are_not_guessed(raw: str) -> None:
    assert parse_w3c_datetime(raw) is None


def test_feed_dates_accept_rfc_822_as_well() -> None:
    assert parse_feed_datetime("Sat, 13 Dec 2003 18:30:02 GMT") == datetime(
        2003, 12, 13, 18, 30, 2, tzinfo=UTC
    )
    assert parse_feed_datetime("2003-12-13T18:30:02Z") == datetime(
        2003, 12, 13, 18, 30, 2, tzinfo=UTC
    )
    assert parse_feed_datetime("not a date") is None
    assert lastmod_micros("1970-01-01T00:00:01Z") == 1_000_000


# -- the normalization shortcut -----------------------------------------------------------


def test_ordinary_sitemap_urls_take_the_shortcut() -> None:
    for url in (
        "https://www.example.com/",
        "http://127.0.0.1:8765/p/meadow-relaxed-wrap-dress/?color=beige",
        "https://shop.example/c/women/dresses/?page=2&sort=price",
    ):
        assert is_normal(url, DEFAULT_POLICY), url
    for url in (
        "HTTP://Example.com/",
        "http://example.com:80/",
        "http://example.com/a/../b",
        "http://example.com/%7euser",
        "http://example.com/?utm_source=x&id=1",
        "http://example.com/?&a=1",
        "http://example.com",
        "http://example.com/a#frag",
    ):
        assert not is_normal(url, DEFAULT_POLICY), url


_PIECES = st.sampled_from(
    list("aZ09-._~/!$&'()*+,;=:@?%# ") + ["/./", "/../", "utm_source=", "&&", "%7e", "%2F", "é"]
)
_HOSTS = st.sampled_from(
    ["example.com", "127.0.0.1:8080", "a.b:80", "x.org:443", "EX.com", "ex.com.", "h:0",
     "h:99999", "h:01", "xn--bcher-kva.de", "bücher.de"]
)  # fmt: skip
_POLICIES = st.sampled_from(
    [DEFAULT_POLICY, UrlPolicy(sort_query=True), UrlPolicy(strip_params=()),
     UrlPolicy(trailing_slash="add")]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["http", "https", "HTTPS"]), _HOSTS, st.lists(_PIECES, max_size=10), _POLICIES
)
def test_the_shortcut_never_disagrees_with_normalize_url(
    scheme: str, host: str, pieces: list[str], policy: UrlPolicy
) -> None:
    url = f"{scheme}://{host}/" + "".join(pieces)
    if is_normal(url, policy):
        assert normalize_url(url, policy=policy) == url
    try:
        expected = normalize_url(url, policy=policy)
    except ValueError:
        return
    assert normalize_loc(url, policy) == expected


# -- rows ---------------------------------------------------------------------------------


def _entry(loc: str, **fields: object) -> UrlEntry:
    entry = UrlEntry()
    entry.loc = loc
    for name, value in fields.items():
        setattr(entry, name, value)
    return entry


def test_rows_carry_every_extension_and_flag_bad_values(tmp_path: Path) -> None:
    part = tmp_path / "part.parquet"
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows = UrlRows("https://shop.example/sitemap.xml", part, now=now,
                   robots=lambda url: (url.endswith("/cart/"), False))  # fmt: skip
    video = Video()
    video.title, video.content_loc, video.duration = "Demo", "https://cdn.example/v.mp4", "600"
    news = News()
    news.title, news.publication_date, news.publication_name, news.language = (
        "Headline", "2026-10-31T09:00:00Z", "Shop News", "en")  # fmt: skip
    entries = [
        _entry("https://shop.example/a/", lastmod="2026-10-01", changefreq="Weekly",
               priority="0.8", images=["https://shop.example/a.jpg"], n_images=1,
               alternates=[("de", "/de/a/"), ("x-default", "https://shop.example/a/")],
               n_alternates=2, mobile=True),
        _entry("https://shop.example/b/", lastmod="2026-02-30", changefreq="sometimes",
               priority="high", videos=[video], n_videos=1, news=news),
        _entry("https://other.example/c/", lastmod="2031-01-01"),
        _entry("/relative/", priority="1.5"),
        _entry("javascript:alert(1)"),
        _entry("https://shop.example/cart/"),
    ]  # fmt: skip
    for entry in entries:
        rows.url(entry)
    rows.close()
    table = pq.read_table(part)
    assert table.schema == SITEMAP_URLS_SCHEMA
    a, b, c, d, e, cart = table.to_pylist()
    assert a["url"] == "https://shop.example/a/" and a["url_key"] and a["position"] == 0
    assert a["lastmod"] == datetime(2026, 10, 1, tzinfo=UTC) and a["changefreq"] == "weekly"
    assert a["priority"] == 0.8 and a["n_images"] == 1
    assert a["image_locs"] == ["https://shop.example/a.jpg"]
    assert a["hreflang"] == [
        {"lang": "de", "href": "https://shop.example/de/a/"},
        {"lang": "x-default", "href": "https://shop.example/a/"},
    ]
    assert a["is_mobile"] and not a["is_cross_host"] and a["warnings"] is None
    assert b["lastmod"] is None and b["lastmod_raw"] == "2026-02-30"
    assert b["priority"] is None and b["changefreq"] == "sometimes"
    assert b["warnings"] == ["invalid_lastmod", "invalid_changefreq", "invalid_priority"]
    assert b["is_video"] and b["n_videos"] == 1
    assert b["videos"][0]["title"] == "Demo" and b["videos"][0]["duration_s"] == 600
    assert b["is_news"] and b["news_title"] == "Headline" and b["news_language"] == "en"
    assert b["news_publication_date"] == datetime(2026, 10, 31, 9, tzinfo=UTC)
    assert c["is_cross_host"] and c["warnings"] == ["future_lastmod"]
    assert d["url"] == "https://shop.example/relative/"
    assert d["warnings"] == ["relative_loc", "invalid_priority"]
    assert e["url"] == "javascript:alert(1)" and e["url_key"] is None
    assert e["error"].startswith("not an http(s) URL") and e["warnings"] == ["invalid_url"]
    assert cart["is_robots_blocked"] and not cart["is_googlebot_blocked"]
    counts = rows.counts
    assert (counts.n_urls, counts.n_invalid, counts.n_cross_host, counts.n_robots_blocked) == (
        6, 1, 1, 1,
    )  # fmt: skip
    assert counts.url_warnings["invalid_lastmod"] == 1


def test_rows_flush_in_batches_and_keep_positions(tmp_path: Path) -> None:
    part = tmp_path / "part.parquet"
    rows = UrlRows("https://shop.example/sitemap.xml", part, batch_rows=100)
    for i in range(1050):
        rows.url(_entry(f"https://shop.example/p/{i}/"))
    rows.close()
    file = pq.ParquetFile(part)
    assert file.metadata.num_rows == 1050 and file.num_row_groups == 11
    assert file.read(columns=["position"])["position"].to_pylist() == list(range(1050))


def test_long_urls_are_flagged_and_flush_by_bytes(tmp_path: Path) -> None:
    part = tmp_path / "part.parquet"
    rows = UrlRows("https://shop.example/sitemap.xml", part)
    long = "https://shop.example/p/" + "x" * 3000
    for i in range(800):
        rows.url(_entry(f"{long}{i}"))
    rows.close()
    file = pq.ParquetFile(part)
    assert file.num_row_groups > 1  # 800 rows of 3 KB: flushed by bytes, not by row count
    assert file.read(columns=["warnings"])["warnings"].to_pylist()[0] == ["long_url"]


# -- duplicate counting -------------------------------------------------------------------


@pytest.mark.parametrize("partition_rows", [1_000_000, 97])
def test_duplicates_within_and_across_files_match_a_plain_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partition_rows: int
) -> None:
    import random

    from ingest.sitemaps import audit
    from ingest.urls import url_key

    monkeypatch.setattr(audit, "PARTITION_ROWS", partition_rows)
    rng = random.Random(3)
    files = [
        [url_key(f"https://e.com/{rng.randint(0, 400)}") for _ in range(300)] for _ in range(5)
    ]
    files[2][7] = None  # an invalid URL has no key and is never a duplicate
    counter = audit.DuplicateCounter(tmp_path / "dedupe")
    for number, keys in enumerate(files):
        for start in range(0, len(keys), 64):
            counter.add(number, keys[start : start + 64])
    within, across = counter.counts(len(files))
    counter.close()
    for number, keys in enumerate(files):
        valid = [k for k in keys if k]
        assert within[number] == len(valid) - len(set(valid))
        others = {k for n, ks in enumerate(files) if n != number for k in ks if k}
        assert across[number] == sum(1 for k in valid if k in others)
    assert not (tmp_path / "dedupe").exists()
