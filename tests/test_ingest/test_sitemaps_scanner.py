"""The plain-urlset scanner (xmlplain) against the ElementTree reader alone: the same entries,
warnings, errors (with positions) and landed rows, on every fixture and on generated files with
odd values, in any chunking."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.sitemaps.errors import SitemapError
from ingest.sitemaps.parse import SitemapReader
from ingest.sitemaps.rows import UrlRows
from tests.test_ingest.test_sitemaps_parse import FIXTURES, MIB, Parsed, _view

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')  # fmt: skip
ODD_LOCS = [
    "http://e.com/a", "HTTP://Example.COM/a", "http://e.com:80/x", "https://e.com:443/",
    "https://e.com:8443/p", "http://e.com/%7euser/%41", "http://e.com/a/./b/../c",
    "http://e.com/a#frag", "http://bücher.example/ü", "http://e.com/?utm_source=x&amp;a=1",
    "http://e.com/?b=2&amp;a=1", "http://e.com/?a=1&amp;&amp;b=", "/relative/path",
    "  http://e.com/spaced  ", "http://e.com/a&lt;b", "http://e.com/&#65;", "http://e.com/a b",
    "mailto:x@e.com", "http://e.com/\u00a0", "http://[::1]/", "http://e.com/" + "x" * 2100,
    "http://e.com/a%", "http://e.com/;p?q=1;2", "http://e.com/a&quot;&apos;&gt;",
]  # fmt: skip
ODD_LASTMODS = [None, "", " ", "2024-06-01", "2024-06-01T10:00:00+00:00", "2024-02-30", "2999-01-01",
                "2024-06-01 10:00", " 2024-06-01 ", "yesterday"]  # fmt: skip
ODD_CHANGEFREQS = [None, "", "weekly", "Weekly", "DAILY ", "sometimes"]
ODD_PRIORITIES = [None, "", "0.5", "1.0", "1.5", "-0.1", "nan", "high", " 0.3", "1_0"]


def parse(data: bytes, *, plain: bool, chunk: int) -> Parsed:
    parsed = Parsed()
    reader = SitemapReader("test.xml", parsed, max_bytes=100 * MIB, plain_scan=plain)
    try:
        for i in range(0, len(data), chunk):
            reader.feed(data[i : i + chunk])
        reader.close()
    except SitemapError as exc:
        parsed.error = exc
    parsed.kind = reader.kind
    return parsed


def view(p: Parsed) -> tuple:
    return (*_view(p), str(p.error) if p.error else None)


def rows(data: bytes, tmp_path: Path, *, plain: bool, chunk: int = 16384) -> tuple:
    part = tmp_path / f"{plain}-{chunk}.parquet"
    sink = UrlRows("https://www.example.com/sitemap.xml", part, batch_rows=7)
    reader = SitemapReader("test.xml", sink, max_bytes=100 * MIB, plain_scan=plain)
    try:
        for i in range(0, len(data), chunk):
            reader.feed(data[i : i + chunk])
        reader.close()
    except SitemapError as exc:
        sink.warn("error", str(exc))
    sink.close()
    return pq.read_table(part).to_pylist(), sink.counts.warning_list(), sink.counts


def entry(loc: str, lastmod: str | None, changefreq: str | None, priority: str | None,
          sep: str = "\n") -> str:  # fmt: skip
    out = f"{sep}<url><loc>{loc}</loc>"
    if lastmod is not None:
        out += f"<lastmod>{lastmod}</lastmod>"
    if changefreq is not None:
        out += f"<changefreq>{changefreq}</changefreq>"
    if priority is not None:
        out += f"<priority>{priority}</priority>"
    return out + "</url>"


def odd_file() -> bytes:
    body = "".join(
        entry(loc, ODD_LASTMODS[i % len(ODD_LASTMODS)], ODD_CHANGEFREQS[i % len(ODD_CHANGEFREQS)],
              ODD_PRIORITIES[i % len(ODD_PRIORITIES)], sep=["", "\n", "\r\n  ", "\t"][i % 4])
        for i, loc in enumerate(ODD_LOCS * 3)
    )  # fmt: skip
    return HEAD + body.encode() + b"\n</urlset>\n"


def plain_file(n: int) -> bytes:
    body = "".join(entry(f"http://e.com/p/{k}/?ref=s", f"2024-06-{1 + k % 28:02d}", "weekly",
                         f"0.{k % 10}") for k in range(n))  # fmt: skip
    return HEAD + body.encode() + b"\n</urlset>\n"


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.iterdir() if p.is_file() and p.suffix != ".md")
)
def test_scanner_and_fast_reader_agree_on_every_fixture(name: str, tmp_path: Path) -> None:
    data = (FIXTURES / name).read_bytes()
    for chunk in (len(data) or 1, 4096, 7):
        assert view(parse(data, plain=True, chunk=chunk)) == view(
            parse(data, plain=False, chunk=chunk)
        )
    assert rows(data, tmp_path, plain=True)[:2] == rows(data, tmp_path, plain=False)[:2]


@pytest.mark.parametrize("chunk", [1, 13, 4096, 1 << 20])
def test_odd_values_give_the_same_entries_and_rows(chunk: int, tmp_path: Path) -> None:
    data = odd_file()
    assert view(parse(data, plain=True, chunk=chunk)) == view(parse(data, plain=False, chunk=chunk))
    scanned, slow = rows(data, tmp_path, plain=True, chunk=chunk), rows(data, tmp_path, plain=False)
    assert scanned[:2] == slow[:2]
    assert vars(scanned[2]) == vars(slow[2])


def test_plain_entries_then_odd_ones_then_plain_again(tmp_path: Path) -> None:
    odd = odd_file()[len(HEAD) : -len(b"\n</urlset>\n")]
    plain = plain_file(300)[len(HEAD) : -len(b"\n</urlset>\n")]
    comment = b"\n<!-- a comment - with a dash -->\n"
    data = HEAD + plain + comment + plain + odd + plain + b"</urlset>"
    for chunk in (97, 16384):
        assert view(parse(data, plain=True, chunk=chunk)) == view(
            parse(data, plain=False, chunk=chunk)
        )
    assert rows(data, tmp_path, plain=True)[:2] == rows(data, tmp_path, plain=False)[:2]


@pytest.mark.parametrize(
    "tail",
    [b"<url><loc>x</url>", b"<url><loc>a\x01</loc></url>", b"<url><loc>a&nbsp;</loc></url>",
     b"<url><loc>\xff</loc></url></urlset>", b"</urlset><x/>", b"<!-- a -- b --></urlset>",
     b"<url><loc>http://e.com/]]></loc></url></urlset>", b"<url><loc>http://e.com/\xc3\xa9</loc>",
     b"<url><loc>http://e.com/&#1;</loc></url></urlset>", b""],
)  # fmt: skip
@pytest.mark.parametrize("sep", [b"", b"\n", b"\r\n", b"\r"])
def test_broken_files_fail_the_same_way_at_the_same_position(tail: bytes, sep: bytes) -> None:
    data = HEAD + sep + sep.join(b"<url><loc>http://e.com/%d</loc></url>" % i for i in range(400))
    data += sep + tail
    for chunk in (5, 4096, len(data)):
        scanned, fast = parse(data, plain=True, chunk=chunk), parse(data, plain=False, chunk=chunk)
        assert view(scanned) == view(fast)


def test_the_generated_benchmark_shape_is_scanned_to_the_end() -> None:
    from ingest.sitemaps import xmlplain

    parsed = Parsed()
    reader = SitemapReader("test.xml", parsed, max_bytes=100 * MIB)
    reader.feed(plain_file(2000))
    scanner = reader._target.__self__  # type: ignore[union-attr]
    assert isinstance(scanner, xmlplain.PlainScanner) and scanner._scanning
    reader.close()
    assert len(parsed.urls) == 2000 and not parsed.warnings


_TEXT = st.lists(
    st.sampled_from(list("aZ09-._~/%:?=#;+ \t\u00a0éü\x7f") + ["&amp;", "&lt;", "&", "..", "/./"]),
    max_size=30,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["http://e.com/", "HTTPS://E.com:443/", "http://e.com:8080/", "/", ""]
            ).flatmap(lambda p: _TEXT.map(lambda t: p + t)),
            st.one_of(st.none(), st.sampled_from(ODD_LASTMODS[1:]), _TEXT),
            st.one_of(st.none(), st.sampled_from(ODD_CHANGEFREQS[1:])),
            st.one_of(st.none(), st.sampled_from(ODD_PRIORITIES[1:]), _TEXT),
            st.sampled_from(["", "\n", " ", "<!-- c -->"]),
        ),
        max_size=25,
    ),
    st.sampled_from([3, 64, 16384]),
)
def test_any_generated_urlset_gives_the_same_rows(entries: list, chunk: int) -> None:
    import tempfile

    body = "".join(entry(loc, lm, cf, pr, sep=sep) for loc, lm, cf, pr, sep in entries)
    data = HEAD + body.encode() + b"</urlset>"
    assert view(parse(data, plain=True, chunk=chunk)) == view(parse(data, plain=False, chunk=chunk))
    with tempfile.TemporaryDirectory() as tmp:
        scanned = rows(data, Path(tmp), plain=True, chunk=chunk)
        slow = rows(data, Path(tmp), plain=False, chunk=chunk)
    assert scanned[:2] == slow[:2]
    assert vars(scanned[2]) == vars(slow[2])


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"", 404), (b"User-agent: *\nDisallow: /p/1\n", 200), (b"User-agent: *\nDisallow: /\n", 200),
     (b"", 503)],
    ids=["no-rules", "one-rule", "all-disallowed", "unreachable"],
)  # fmt: skip
def test_robots_verdicts_are_the_same_in_batches(body: bytes, status: int, tmp_path: Path) -> None:
    from ingest.sitemaps.collect import _RobotsLookup
    from ingest.sitemaps.robots import robots_record_from_bytes

    data = plain_file(50).replace(b"http://e.com/p/7/", b"http://other.example/p/7/")
    lookup = _RobotsLookup([robots_record_from_bytes(body, "http://e.com/robots.txt",
                                                     user_agent="linkwarehouse", status=status)])  # fmt: skip
    out = []
    for plain in (True, False):
        sink = UrlRows("http://e.com/sitemap.xml", tmp_path / f"{plain}.parquet", robots=lookup)
        reader = SitemapReader("test.xml", sink, max_bytes=MIB, plain_scan=plain)
        reader.feed(data)
        reader.close()
        sink.close()
        out.append((pq.read_table(tmp_path / f"{plain}.parquet").to_pylist(), vars(sink.counts)))
    assert out[0] == out[1]
    assert out[0][1]["n_cross_host"] == 1
