-- The hosts (with port) that belong to each crawled site: the crawl's scope plus every host it
-- actually crawled (pages.parquet holds in-scope URLs only). A canonical or redirect pointing
-- at any other host leaves the site.
with scope_hosts as (
    select site_id, unnest(allowed_hosts) as netloc
    from {{ ref('stg_crawl__runs') }}
    where is_latest_run
),

crawled_hosts as (
    select distinct site_id, {{ url_netloc('url') }} as netloc
    from {{ ref('stg_crawl__pages') }}
)

select distinct site_id, netloc
from (
    select * from scope_hosts
    union all
    select * from crawled_hosts
)
where netloc is not null and netloc <> ''
