-- Indexability facts of each crawled URL as flags, from the crawler's verdict and its inputs.
-- The crawler's `indexability_reason` names one reason; a page can be noindex *and*
-- canonicalised, so the flags are derived from the signals themselves.
with pages as (
    select * from {{ ref('stg_crawl__pages') }}
),

resolution as (
    select * from {{ ref('int_urls_resolved') }}
)

select
    pages.site_id,
    pages.url_key,
    pages.url,
    pages.crawl_state,
    pages.status_code,
    pages.is_html,
    pages.is_indexable,
    pages.indexability_reason,
    pages.crawl_state = 'redirect' as is_redirect,
    pages.crawl_state = 'blocked_by_robots' as is_robots_blocked,
    pages.crawl_state = 'ok' and pages.status_code = 200 and pages.is_html as is_ok_html,
    regexp_matches(
        lower(concat_ws(',', pages.meta_robots, pages.x_robots_tag)), '(^|[^a-z])(noindex|none)([^a-z]|$)'
    ) as is_noindex,
    coalesce(pages.canonical_url_key <> pages.url_key, false) as is_canonicalised,
    coalesce(pages.canonical_url_key = pages.url_key, false) as is_self_canonical,
    pages.canonical_url_key is null and pages.crawl_state = 'ok' and pages.is_html as is_missing_canonical,
    -- Screaming Frog's Link Score eligibility: internal (every crawled URL is), not a redirect,
    -- not canonicalised.
    pages.crawl_state <> 'redirect' and coalesce(pages.canonical_url_key = pages.url_key, true)
        as is_link_score_eligible,
    resolution.resolved_key,
    resolution.resolution_kind
from pages
left join resolution
    on resolution.site_id = pages.site_id
    and resolution.url_key = pages.url_key
