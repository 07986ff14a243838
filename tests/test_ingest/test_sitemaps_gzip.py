"""Gzip by magic bytes, never by name: multi-member, double, truncated, CRC, trailing garbage,
and the decompressed-size cap that stops a bomb with a message naming the file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ingest.sitemaps.errors import SitemapError
from ingest.sitemaps.parse import SitemapReader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sitemaps"
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'


def urlset(n: int) -> bytes:
    rows = b"".join(b"<url><loc>https://shop.example/p/%d/</loc></url>\n" % i for i in range(n))
    return HEAD + rows + b"</urlset>\n"


class Sink:
    def __init__(self) -> None:
        self.locs: list[str] = []
        self.warnings: dict[str, str] = {}

    def url(self, entry) -> None:  # noqa: ANN001
        self.locs.append(entry.loc)

    def child(self, loc: str, lastmod: str | None) -> None:
        pass

    def warn(self, code: str, message: str) -> None:
        self.warnings[code] = message


def read(data: bytes, *, chunk: int = 1000, max_bytes: int = 10**9, name: str = "s.xml.gz"):
    sink = Sink()
    reader = SitemapReader(name, sink, max_bytes=max_bytes)
    error = None
    try:
        for i in range(0, len(data), chunk):
            reader.feed(data[i : i + chunk])
        reader.close()
    except SitemapError as exc:
        error = exc
    return sink, reader, error


def test_plain_gzip_and_gzip_of_gzip_both_unpack() -> None:
    body = urlset(500)
    for data, layers in ((gzip.compress(body), 1), (gzip.compress(gzip.compress(body)), 2)):
        sink, reader, error = read(data)
        assert error is None and len(sink.locs) == 500
        assert reader.is_gzip and reader.unpacker.gzip_layers == layers
        assert reader.bytes == len(body) and reader.compressed_bytes == len(data)


def test_concatenated_gzip_members_are_one_stream() -> None:
    body = urlset(300)
    data = gzip.compress(body[:5000]) + gzip.compress(body[5000:])
    sink, _, error = read(data, chunk=333)
    assert error is None and len(sink.locs) == 300


def test_a_truncated_gzip_keeps_the_urls_before_the_cut() -> None:
    data = gzip.compress(urlset(2000))
    sink, _, error = read(data[: len(data) // 2])
    assert error is not None and error.kind == "truncated_gzip"
    assert str(error).startswith("s.xml.gz: gzip stream ends early")
    assert 500 < len(sink.locs) < 2000
    assert sink.locs[:2] == ["https://shop.example/p/0/", "https://shop.example/p/1/"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[:-8] + bytes([d[-8] ^ 0xFF]) + d[-7:], "incorrect data check"),
        (lambda d: d[:-4] + b"\x00\x00\x00\x00", "incorrect length check"),
    ],
    ids=["crc", "length"],
)
def test_a_crc_or_length_error_is_named_and_rows_are_kept(damage, message: str) -> None:  # noqa: ANN001
    sink, _, error = read(damage(gzip.compress(urlset(2000))))
    assert error is not None and error.kind == "corrupt_gzip" and message in str(error)
    assert len(sink.locs) == 2000  # every URL arrived before the trailer was checked


def test_damaged_deflate_data_is_corrupt_gzip() -> None:
    data = bytearray(gzip.compress(urlset(2000)))
    data[200:260] = b"\xff" * 60
    _, _, error = read(bytes(data))
    assert error is not None and error.kind in ("corrupt_gzip", "xml_error")


@pytest.mark.parametrize(
    ("name", "unpacked"),
    [
        ("scrapy__compressed__truncated-crc-error-short.gz", 3741),
        ("scrapy__compressed__truncated-crc-error.gz", 25542),
    ],
)
def test_real_truncated_gzip_of_an_html_page(name: str, unpacked: int) -> None:
    sink, reader, error = read((FIXTURES / name).read_bytes(), name=name)
    assert error is not None and error.kind == "truncated_gzip"
    assert str(error).startswith(f"{name}: gzip stream ends early")
    assert f"after {unpacked:,} unpacked bytes" in str(error)
    assert "not a sitemap either (an HTML page" in str(error)
    assert not sink.locs and reader.kind is None


def test_bytes_after_the_gzip_stream_are_ignored_with_a_warning() -> None:
    sink, _, error = read(gzip.compress(urlset(10)) + b"<!-- served by CacheX -->")
    assert error is None and len(sink.locs) == 10
    assert sink.warnings["trailing_garbage"].startswith("25 bytes")


def test_endless_bytes_after_the_gzip_stream_are_refused_naming_the_file() -> None:
    from ingest.sitemaps.decode import MAX_TRAILING_GARBAGE

    junk = b"<!-- padding -->" * (MAX_TRAILING_GARBAGE // 16 + 100)  # just over the cap
    sink, _, error = read(gzip.compress(urlset(2000)) + junk, name="https://s.example/s.xml.gz")
    assert error is not None and error.kind == "corrupt_gzip"
    assert str(error).startswith("https://s.example/s.xml.gz: more than 64 KiB of data after")
    assert 1000 < len(sink.locs) <= 2000  # URLs parsed before the refusal are kept
    # at the cap exactly, it is still a warning
    at_cap = b"x" * MAX_TRAILING_GARBAGE
    sink, _, error = read(gzip.compress(urlset(10)) + at_cap)
    assert error is None and sink.warnings["trailing_garbage"].startswith("65,536 bytes")


def test_a_decompression_bomb_is_refused_at_the_cap_naming_the_file() -> None:
    body = urlset(40_000)  # ~1.9 MB unpacked
    sink, reader, error = read(gzip.compress(body), max_bytes=1_000_000, chunk=65536,
                               name="https://shop.example/sitemap-bomb.xml.gz")  # fmt: skip
    assert error is not None and error.kind == "too_large"
    assert str(error).startswith("https://shop.example/sitemap-bomb.xml.gz: larger than")
    assert "cap once unpacked" in str(error) and "gzip" in str(error)
    assert reader.bytes == 1_000_000
    assert 10_000 < len(sink.locs) < 40_000  # the URLs within the cap are kept


def test_the_cap_applies_to_plain_files_too() -> None:
    _, reader, error = read(urlset(40_000), max_bytes=500_000, chunk=65536)
    assert error is not None and error.kind == "too_large" and not reader.is_gzip
