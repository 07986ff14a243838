-- Search performance per page over the trailing `gsc_window_days` (ending at the newest day
-- landed for the site): the figures equity_gaps and link_position_performance compare with
-- link equity. Position is impression-weighted, as Search Console's own page totals are.
with rows_in_window as (
    select *
    from {{ ref('stg_gsc__search_analytics') }}
    where url_key is not null
        and search_type = 'web'
    qualify search_date > max(search_date) over (partition by site_id)
        - interval ({{ var('gsc_window_days') }}) day
),

per_query as (
    select
        site_id,
        url_key,
        query,
        sum(clicks) as clicks,
        sum(impressions) as impressions
    from rows_in_window
    group by site_id, url_key, query
),

top_queries as (
    select site_id, url_key, query as top_query
    from per_query
    where query is not null
    qualify row_number() over (
        partition by site_id, url_key order by clicks desc, impressions desc, query
    ) = 1
),

per_page as (
    select
        site_id,
        url_key,
        any_value(page_url) as page_url,
        min(search_date) as first_date,
        max(search_date) as last_date,
        sum(clicks) as clicks,
        sum(impressions) as impressions,
        sum(avg_position * impressions) / nullif(sum(impressions), 0) as avg_position,
        count(distinct query) as n_queries
    from rows_in_window
    group by site_id, url_key
)

select
    per_page.site_id,
    per_page.url_key,
    per_page.page_url,
    per_page.first_date,
    per_page.last_date,
    per_page.clicks,
    per_page.impressions,
    per_page.clicks / nullif(per_page.impressions, 0) as ctr,
    per_page.avg_position,
    per_page.n_queries,
    top_queries.top_query
from per_page
left join top_queries
    on top_queries.site_id = per_page.site_id
    and top_queries.url_key = per_page.url_key
