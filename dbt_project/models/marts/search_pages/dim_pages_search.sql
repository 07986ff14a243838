-- dim_pages with Search Console's figures per URL: performance over `gsc_window_days`
-- (int_gsc_page_performance) and the latest successful URL Inspection. Built after both the
-- core marts and the search branch, so a Search Console day that fails its tests stops this
-- mart but not dim_pages.
with pages as (
    select * from {{ ref('dim_pages') }}
),

search as (
    select * from {{ ref('int_gsc_page_performance') }}
),

latest_inspections as (
    select *
    from {{ ref('stg_gsc__url_inspections') }}
    where error_message is null
    qualify row_number() over (partition by site_id, url_key order by inspected_at desc) = 1
)

select
    pages.*,
    search.clicks as gsc_clicks,
    search.impressions as gsc_impressions,
    search.avg_position as gsc_avg_position,
    search.top_query as gsc_top_query,
    latest_inspections.verdict as gsc_verdict,
    latest_inspections.coverage_state as gsc_coverage_state,
    latest_inspections.robots_txt_state as gsc_robots_txt_state,
    latest_inspections.last_crawled_at as gsc_last_crawled_at,
    latest_inspections.inspected_at as gsc_inspected_at,
    latest_inspections.google_canonical_url,
    coalesce(latest_inspections.google_canonical_key <> latest_inspections.user_canonical_key, false)
        as is_google_canonical_different
from pages
left join search
    on search.site_id = pages.site_id
    and search.url_key = pages.url_key
left join latest_inspections
    on latest_inspections.site_id = pages.site_id
    and latest_inspections.url_key = pages.url_key
