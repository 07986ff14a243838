-- Pages Google already ranks within reach (average position `equity_gap_min_position` to
-- `equity_gap_max_position`, i.e. 4-20) and shows a lot (at least `equity_gap_min_impressions`
-- over `gsc_window_days`) but that get little internal link equity (link_score at most
-- `equity_gap_max_link_score`): the pages where internal links are most likely to pay off.
-- Search Console pages that redirect or are canonicalised are judged on the page they fold into.
-- A page the crawl found broken or not indexable (404, noindex...) is no gap to link to; a page
-- the crawl never saw (an orphan Google still ranks) is one, flagged by `is_crawled`.
with search as (
    select * from {{ ref('int_gsc_page_performance') }}
),

resolution as (
    select * from {{ ref('int_urls_resolved') }}
),

equity as (
    select * from {{ ref('page_link_equity') }}
),

crawled as (
    select site_id, url_key, is_indexable from {{ ref('int_pages_indexability') }}
),

candidates as (
    select
        search.site_id,
        coalesce(resolution.resolved_key, search.url_key) as url_key,
        search.url_key as search_url_key,
        search.page_url,
        search.clicks,
        search.impressions,
        search.ctr,
        search.avg_position,
        search.top_query,
        search.n_queries
    from search
    left join resolution
        on resolution.site_id = search.site_id
        and resolution.url_key = search.url_key
    where search.avg_position between {{ var('equity_gap_min_position') }}
        and {{ var('equity_gap_max_position') }}
        and search.impressions >= {{ var('equity_gap_min_impressions') }}
)

select
    candidates.site_id,
    candidates.url_key,
    coalesce(equity.url, candidates.page_url) as url,
    candidates.search_url_key,
    candidates.clicks,
    candidates.impressions,
    candidates.ctr,
    candidates.avg_position,
    candidates.top_query,
    candidates.n_queries,
    equity.link_score,
    equity.link_score_rank,
    equity.n_inlinks,
    equity.referring_domains,
    equity.click_depth,
    crawled.url_key is not null as is_crawled,
    -- impressions waiting for a better position, discounted by the equity the page already has
    candidates.impressions * (1 - coalesce(equity.link_score, 0) / 100.0) as gap_score,
    rank() over (
        partition by candidates.site_id
        order by candidates.impressions * (1 - coalesce(equity.link_score, 0) / 100.0) desc
    ) as gap_rank
from candidates
left join equity
    on equity.site_id = candidates.site_id
    and equity.url_key = candidates.url_key
left join crawled
    on crawled.site_id = candidates.site_id
    and crawled.url_key = candidates.url_key
where coalesce(equity.link_score, 0) <= {{ var('equity_gap_max_link_score') }}
    and coalesce(crawled.is_indexable, true)
