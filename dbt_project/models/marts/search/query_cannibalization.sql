-- Queries where several pages of one site split the clicks (jmelm93/seo_cannibalization_analysis
-- rules, thresholds in dbt vars): over the last `cannibalization_window_days`, a query with at
-- least one click is cannibalized when at least `cannibalization_min_pages` pages each take at
-- least `cannibalization_min_click_share` of its clicks. Every page of such a query is listed;
-- `is_competing` marks the ones over the share. `label`: opportunity when the page takes at least
-- `cannibalization_opportunity_share` of the query's clicks *and* the query is at least that
-- share of the page's own clicks (worth consolidating), else risk.
with rows_in_window as (
    select *
    from {{ ref('stg_gsc__search_analytics') }}
    where query is not null
        and url_key is not null
        and search_type = 'web'
    qualify search_date > max(search_date) over (partition by site_id)
        - interval ({{ var('cannibalization_window_days') }}) day
),

page_query as (
    select
        site_id,
        query,
        url_key,
        any_value(page_url) as page_url,
        sum(clicks) as clicks,
        sum(impressions) as impressions,
        sum(avg_position * impressions) / nullif(sum(impressions), 0) as avg_position
    from rows_in_window
    group by site_id, query, url_key
),

page_totals as (
    select site_id, url_key, sum(clicks) as page_clicks
    from page_query
    group by site_id, url_key
),

shares as (
    select
        page_query.*,
        sum(page_query.clicks) over (partition by page_query.site_id, page_query.query) as query_clicks,
        sum(page_query.impressions) over (partition by page_query.site_id, page_query.query)
            as query_impressions,
        page_totals.page_clicks
    from page_query
    inner join page_totals
        on page_totals.site_id = page_query.site_id
        and page_totals.url_key = page_query.url_key
),

flagged as (
    select
        *,
        clicks / nullif(query_clicks, 0) as click_share,
        clicks / nullif(page_clicks, 0) as share_of_page_clicks,
        coalesce(clicks / nullif(query_clicks, 0) >= {{ var('cannibalization_min_click_share') }}, false)
            as is_competing
    from shares
),

cannibalized as (
    select *, count(*) filter (where is_competing) over (partition by site_id, query) as n_competing_pages
    from flagged
    where query_clicks >= 1
)

select
    site_id,
    query,
    url_key,
    page_url,
    clicks,
    impressions,
    avg_position,
    query_clicks,
    query_impressions,
    click_share,
    page_clicks,
    share_of_page_clicks,
    is_competing,
    n_competing_pages,
    case
        when click_share >= {{ var('cannibalization_opportunity_share') }}
            and share_of_page_clicks >= {{ var('cannibalization_opportunity_share') }}
            then 'opportunity'
        else 'risk'
    end as label
from cannibalized
where n_competing_pages >= {{ var('cannibalization_min_pages') }}
