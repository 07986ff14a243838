"""Parquet schemas of the Search Console landing files (the contract dbt's staging models read).

Add columns, never rename them silently. Dimensions not requested are null columns, so a site
that pulls fewer dimensions still lands the same shape.
"""

from __future__ import annotations

import pyarrow as pa

SEARCH_ANALYTICS_SCHEMA = pa.schema(
    [
        ("site_id", pa.string()),
        ("property_url", pa.string()),
        ("date", pa.date32()),
        ("page", pa.string()),  # as Search Console spelled it
        ("page_url", pa.string()),  # normalize_url(page) with the site's URL policy
        ("url_key", pa.string()),
        ("query", pa.string()),
        ("device", pa.string()),  # DESKTOP | MOBILE | TABLET
        ("country", pa.string()),  # ISO-3166 alpha-3, lower case
        ("search_appearance", pa.string()),
        ("search_type", pa.string()),
        ("aggregation_type", pa.string()),  # byPage | byProperty | auto, as answered
        ("clicks", pa.int64()),
        ("impressions", pa.int64()),
        ("ctr", pa.float64()),
        ("position", pa.float64()),
        ("data_state", pa.string()),  # the request's dataState: final | all
        ("is_provisional", pa.bool_()),  # not final yet: replaced when the day is pulled again
        ("first_incomplete_date", pa.date32()),
        ("pulled_at", pa.timestamp("us", tz="UTC")),
    ]
)

URL_INSPECTION_SCHEMA = pa.schema(
    [
        ("site_id", pa.string()),
        ("property_url", pa.string()),
        ("inspection_url", pa.string()),  # the URL as given (the normalized `url` is sent)
        ("url", pa.string()),  # normalized
        ("url_key", pa.string()),
        ("verdict", pa.string()),
        ("coverage_state", pa.string()),
        ("indexing_state", pa.string()),
        ("page_fetch_state", pa.string()),
        ("robots_txt_state", pa.string()),
        ("crawled_as", pa.string()),
        ("last_crawl_time", pa.timestamp("us", tz="UTC")),  # null if never crawled or unreadable
        ("google_canonical", pa.string()),
        ("google_canonical_key", pa.string()),
        ("user_canonical", pa.string()),
        ("user_canonical_key", pa.string()),
        ("sitemaps", pa.list_(pa.string())),
        ("referring_urls", pa.list_(pa.string())),
        ("mobile_usability_verdict", pa.string()),
        ("rich_results_verdict", pa.string()),
        ("inspection_result_link", pa.string()),
        ("language_code", pa.string()),
        ("inspected_at", pa.timestamp("us", tz="UTC")),
        ("error", pa.string()),  # why this URL has no result (invalid, outside the property, 4xx)
        ("last_crawl_time_raw", pa.string()),  # lastCrawlTime as Google sent it
        ("warnings", pa.list_(pa.string())),  # "code: message" for a result landed with a problem
    ]
)
