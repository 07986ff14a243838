-- One row per (site, linking page, target page) across every imported export: vendors that saw
-- the same link are merged (earliest first seen, latest last seen, highest authority; lost and
-- the rel flags from the most recent observation, as ingest/backlinks/merge.py does), and the
-- target is followed through the crawl so a backlink into a redirect or a 404 shows up.
with backlinks as (
    select * from {{ ref('stg_backlinks__backlinks') }}
    where backlink_grain = 'link'
        and target_key is not null
        and source_key is not null
),

merged as (
    select
        site_id,
        source_key,
        target_key,
        any_value(source_url) as source_url,
        any_value(source_domain) as source_domain,
        any_value(target_url) as target_url,
        list(distinct vendor order by vendor) filter (where vendor is not null) as vendors,
        count(*) as n_observations,
        list(distinct anchor_text order by anchor_text) filter (where anchor_text is not null)
            as anchor_texts,
        {{ latest_observation('is_nofollow') }} as is_nofollow,
        {{ latest_observation('is_ugc') }} as is_ugc,
        {{ latest_observation('is_sponsored') }} as is_sponsored,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        {{ latest_observation('is_lost') }} as is_lost,
        max(authority_0_100) as authority_0_100
    from backlinks
    group by site_id, source_key, target_key
),

resolution as (
    select * from {{ ref('int_urls_resolved') }}
),

targets as (
    select * from {{ ref('int_pages_indexability') }}
),

redirects as (
    select * from {{ ref('int_redirects_folded') }}
)

select
    merged.*,
    not (merged.is_nofollow or merged.is_ugc or merged.is_sponsored) as is_followed,
    coalesce(resolution.resolved_key, merged.target_key) as resolved_target_key,
    targets.url_key is not null as is_target_crawled,
    targets.status_code as target_status_code,
    coalesce(redirects.final_status_code, targets.status_code) as target_final_status_code,
    coalesce(coalesce(redirects.final_status_code, targets.status_code) >= 400, false)
        as is_to_broken
from merged
left join resolution
    on resolution.site_id = merged.site_id
    and resolution.url_key = merged.target_key
left join targets
    on targets.site_id = merged.site_id
    and targets.url_key = merged.target_key
left join redirects
    on redirects.site_id = merged.site_id
    and redirects.url_key = merged.target_key
