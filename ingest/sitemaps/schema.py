"""Parquet schemas of the sitemap landing files: `sitemap_urls`, `sitemaps` and `robots`.

These are the contract with dbt (`dbt_project/models/staging/sitemaps`) and with
`linking.warehouse`'s zero-row placeholders, which import the three names below. The column names
of issue 3 come first and keep their types; every other column was added after them and only
ever will be (see docs/landing.md: columns are added, never renamed).
"""

from __future__ import annotations

import pyarrow as pa

from ingest.landing import HREFLANG

VIDEO = pa.struct(
    [
        ("title", pa.string()),
        ("content_loc", pa.string()),
        ("player_loc", pa.string()),
        ("thumbnail_loc", pa.string()),
        ("duration_s", pa.int32()),
        ("publication_date", pa.string()),
    ]
)

SITEMAP_URLS_SCHEMA = pa.schema(
    [
        ("url", pa.string()),  # normalized; the raw <loc> when it is not a valid URL
        ("url_key", pa.string()),  # null when the <loc> is not a valid URL (see `error`)
        ("sitemap_url", pa.string()),  # the file that lists the URL
        ("lastmod", pa.timestamp("us", tz="UTC")),  # null when absent or not a W3C datetime
        ("lastmod_raw", pa.string()),  # as written (stripped), so invalid values stay visible
        ("changefreq", pa.string()),  # lower-cased; invalid values kept and warned about
        ("priority", pa.float64()),  # null when absent or outside 0.0-1.0
        ("hreflang", pa.list_(HREFLANG)),  # xhtml:link rel=alternate, in file order
        ("n_images", pa.int32()),
        ("is_news", pa.bool_()),
        ("is_video", pa.bool_()),
        ("error", pa.string()),  # why the row's URL is unusable (invalid URL), else null
        # -- added columns ------------------------------------------------------------------
        ("loc_raw", pa.string()),  # the <loc> text before normalization
        ("position", pa.int64()),  # 0-based index of the entry in its file
        ("image_locs", pa.list_(pa.string())),
        ("n_videos", pa.int32()),
        ("videos", pa.list_(VIDEO)),
        ("news_publication_date", pa.timestamp("us", tz="UTC")),
        ("news_publication_date_raw", pa.string()),
        ("news_title", pa.string()),
        ("news_publication_name", pa.string()),
        ("news_language", pa.string()),
        ("is_mobile", pa.bool_()),
        ("is_cross_host", pa.bool_()),  # host differs from the sitemap file's host
        ("is_robots_blocked", pa.bool_()),  # robots.txt disallows it for our user agent
        ("is_googlebot_blocked", pa.bool_()),  # robots.txt disallows it for Googlebot
        ("warnings", pa.list_(pa.string())),  # per-URL warning codes (invalid_lastmod, ...)
    ]
)

SITEMAPS_SCHEMA = pa.schema(
    [
        ("sitemap_url", pa.string()),  # as discovered (normalized)
        ("parent", pa.string()),  # the index or robots.txt that listed it; null for roots
        ("kind", pa.string()),  # urlset | index | rss | atom | text; null when unreadable
        ("status", pa.int32()),  # HTTP status of the final hop; null for files / no answer
        ("content_type", pa.string()),
        ("bytes", pa.int64()),  # uncompressed bytes read
        ("n_urls", pa.int64()),  # URL entries (page URLs; child sitemaps for an index)
        ("warnings", pa.list_(pa.string())),  # "code: message", one per kind of problem
        ("error", pa.string()),  # "code: message" when the file failed (fully or partly)
        # -- added columns ------------------------------------------------------------------
        ("error_kind", pa.string()),
        ("source", pa.string()),  # robots | config | default | index | input
        ("depth", pa.int32()),  # 0 for roots, +1 per index level
        ("final_url", pa.string()),  # after redirects
        ("redirect_chain", pa.list_(pa.string())),  # hops before final_url
        ("compressed_bytes", pa.int64()),  # bytes received (before gunzip)
        ("is_gzip", pa.bool_()),  # gzip detected by magic bytes (never by name or header)
        ("is_partial", pa.bool_()),  # reading stopped early; rows read before are kept
        ("n_children", pa.int64()),  # child sitemaps listed (indexes)
        ("n_invalid_urls", pa.int64()),
        ("n_cross_host", pa.int64()),
        ("n_robots_blocked", pa.int64()),  # for our user agent
        ("n_googlebot_blocked", pa.int64()),
        ("n_duplicates_within", pa.int64()),  # rows whose URL appeared earlier in this file
        ("n_duplicates_across", pa.int64()),  # rows whose URL is also listed by another file
        ("is_over_url_limit", pa.bool_()),  # > 50,000 entries
        ("is_over_size_limit", pa.bool_()),  # > 50 MiB uncompressed
        ("lastmod", pa.timestamp("us", tz="UTC")),  # from the parent index entry
        ("lastmod_raw", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("response_ms", pa.float64()),
    ]
)

ROBOTS_SCHEMA = pa.schema(
    [
        ("robots_url", pa.string()),
        ("status", pa.int32()),
        ("bytes", pa.int64()),  # full size of the file (may exceed what was parsed)
        ("sitemaps", pa.list_(pa.string())),  # Sitemap: lines made absolute, deduplicated
        ("error", pa.string()),
        # -- added columns ------------------------------------------------------------------
        ("origin", pa.string()),
        ("final_url", pa.string()),
        ("outcome", pa.string()),  # parsed | unavailable (4xx) | unreachable (5xx) | refused
        ("is_oversized", pa.bool_()),  # over Google's 500 KiB: the rest is ignored
        ("sitemaps_raw", pa.list_(pa.string())),  # Sitemap: values as written
        ("user_agent", pa.string()),  # the robots token our verdicts are for
        ("is_root_allowed", pa.bool_()),  # may our agent fetch "/"?
        ("is_root_allowed_for_googlebot", pa.bool_()),
        ("crawl_delay_s", pa.float64()),  # for our agent
        ("warnings", pa.list_(pa.string())),
        ("body", pa.string()),  # decoded text that was parsed (<= 500 KiB), for re-evaluation
        ("fetched_at", pa.timestamp("us", tz="UTC")),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "sitemap_urls": SITEMAP_URLS_SCHEMA,
    "sitemaps": SITEMAPS_SCHEMA,
    "robots": ROBOTS_SCHEMA,
}
