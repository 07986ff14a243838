"""Why a sitemap file could not be read (fully or at all), as stable codes plus a message.

Each error names the file, because a run reads hundreds of them and "CRC check failed" alone
does not say which. The `kind` lands in `sitemaps.parquet` (`error_kind`) so the warehouse can
count failures by cause without parsing messages.
"""

from __future__ import annotations


class SitemapError(Exception):
    """A file that could not be read to its end; rows read before the failure stay valid."""

    kind = "error"

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"{name}: {detail}")

    @property
    def code_message(self) -> str:
        """`kind: message` as it lands in the `error` column."""
        return f"{self.kind}: {self}"


class TooLarge(SitemapError):
    """More uncompressed bytes than the cap: a decompression bomb or an absurd file."""

    kind = "too_large"


class CorruptGzip(SitemapError):
    """The gzip stream is damaged (bad header, bad deflate data, CRC or length mismatch)."""

    kind = "corrupt_gzip"


class TruncatedGzip(SitemapError):
    """The gzip stream ended before its trailer: the download or the file was cut."""

    kind = "truncated_gzip"


class NotASitemap(SitemapError):
    """The content is no sitemap format at all (HTML, binary garbage, an unknown XML root)."""

    kind = "not_a_sitemap"


class XmlSyntaxError(SitemapError):
    """The XML is not well-formed (unclosed tags, undefined entities, a cut download...)."""

    kind = "xml_error"


class EntitiesRefused(SitemapError):
    """The document declares entities: refused outright (billion laughs, XXE)."""

    kind = "entities_refused"


class UnknownEncoding(SitemapError):
    """The XML declaration names an encoding Python does not know."""

    kind = "unknown_encoding"


class FetchFailed(SitemapError):
    """No usable response: refused address, DNS, timeout, connection, non-2xx status."""

    kind = "fetch_failed"
