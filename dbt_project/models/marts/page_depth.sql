-- Click depth of every URL of the latest crawl (and every URL its links reach), next to the
-- depth at which the crawler discovered it.
with depths as (
    select * from {{ ref('int_click_depths') }}
),

pages as (
    select * from {{ ref('int_pages_indexability') }}
),

crawl as (
    select site_id, url_key, crawl_depth from {{ ref('stg_crawl__pages') }}
)

select
    coalesce(depths.site_id, pages.site_id) as site_id,
    coalesce(depths.url_key, pages.url_key) as url_key,
    pages.url,
    depths.click_depth,
    crawl.crawl_depth,
    coalesce(depths.click_depth >= {{ var('deep_page_min_depth') }}, false) as is_deep,
    depths.url_key is null as is_unreachable,
    pages.url_key is not null as is_crawled,
    pages.is_indexable,
    pages.crawl_state,
    pages.status_code
from depths
full outer join pages
    on pages.site_id = depths.site_id
    and pages.url_key = depths.url_key
left join crawl
    on crawl.site_id = coalesce(depths.site_id, pages.site_id)
    and crawl.url_key = coalesce(depths.url_key, pages.url_key)
