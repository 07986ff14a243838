-- Every internal link occurrence of the latest crawl, with what happens at its target: the
-- audit view of the link graph (int_link_graph_edges is the deduplicated, folded one PageRank uses).
with links as (
    select * from {{ ref('stg_crawl__links') }}
    where is_internal
),

targets as (
    select * from {{ ref('int_pages_indexability') }}
),

resolution as (
    select * from {{ ref('int_urls_resolved') }}
),

redirects as (
    select * from {{ ref('int_redirects_folded') }}
)

select
    links.site_id,
    links.source_key,
    links.link_index,
    links.source_url,
    links.target_key,
    links.target_url,
    coalesce(resolution.resolved_key, links.target_key) as resolved_target_key,
    links.link_position,
    links.anchor_text,
    links.is_image,
    links.is_nofollow,
    links.is_ugc,
    links.is_sponsored,
    not (links.is_nofollow or links.is_ugc or links.is_sponsored) as is_followed,
    links.target_key = links.source_key as is_self_link,
    coalesce(resolution.resolved_key, links.target_key) = links.source_key as is_self_link_after_folding,
    targets.url_key is not null as is_target_crawled,
    targets.status_code as target_status_code,
    targets.crawl_state as target_crawl_state,
    coalesce(targets.is_redirect, false) as is_to_redirect,
    coalesce(redirects.n_redirect_hops, 0) as n_redirect_hops,
    coalesce(redirects.final_status_code, targets.status_code) as target_final_status_code,
    coalesce(coalesce(redirects.final_status_code, targets.status_code) >= 400, false)
        or coalesce(redirects.is_redirect_loop, false)
        or coalesce(targets.crawl_state = 'error', false) as is_to_broken,
    coalesce(targets.is_noindex, false) as is_to_noindex,
    coalesce(targets.is_canonicalised, false) as is_to_canonicalised,
    coalesce(targets.is_robots_blocked, false) as is_to_robots_blocked,
    coalesce(resolution.resolution_kind, 'self') as target_resolution_kind
from links
left join targets
    on targets.site_id = links.site_id
    and targets.url_key = links.target_key
left join resolution
    on resolution.site_id = links.site_id
    and resolution.url_key = links.target_key
left join redirects
    on redirects.site_id = links.site_id
    and redirects.url_key = links.target_key
