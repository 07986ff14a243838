-- External authority arriving at each page, from every imported backlink export: referring
-- domains (all and followed), and the same domains weighted by the vendor's 0-100 authority.
-- Backlinks to a redirect or a canonicalised variant count for the page they fold into, like
-- internal links. Lost links do not count. GSC's "Top linked pages" report has no links, only
-- per-page counts of linking sites; it is used where it says more than the link exports.
-- A link is lost when its most recent observation says so (by last seen), whichever export said
-- it: live in January's export and lost in February's is lost; the reverse is live again.
with observed as (
    select *
    from {{ ref('stg_backlinks__backlinks') }}
    where target_key is not null
),

link_state as (
    select site_id, source_key, target_key, {{ latest_observation('is_lost') }} as is_lost_now
    from observed
    where backlink_grain = 'link' and source_key is not null
    group by site_id, source_key, target_key
),

backlinks as (
    select observed.*
    from observed
    left join link_state
        on link_state.site_id = observed.site_id
        and link_state.source_key = observed.source_key
        and link_state.target_key = observed.target_key
    where not coalesce(link_state.is_lost_now, observed.is_lost)
),

resolution as (
    select * from {{ ref('int_urls_resolved') }}
),

folded as (
    select
        backlinks.site_id,
        coalesce(resolution.resolved_key, backlinks.target_key) as url_key,
        backlinks.backlink_grain,
        backlinks.source_key,
        backlinks.source_domain,
        not (backlinks.is_nofollow or backlinks.is_ugc or backlinks.is_sponsored) as is_followed,
        backlinks.authority_0_100,
        backlinks.n_linking_sites
    from backlinks
    left join resolution
        on resolution.site_id = backlinks.site_id
        and resolution.url_key = backlinks.target_key
),

per_domain as (
    select
        site_id,
        url_key,
        source_domain,
        bool_or(is_followed) as is_followed,
        max(authority_0_100) as authority_0_100,
        count(distinct source_key) as n_backlinks
    from folded
    where backlink_grain = 'link'
        and source_domain is not null
    group by site_id, url_key, source_domain
),

per_page_links as (
    select
        site_id,
        url_key,
        sum(n_backlinks) as n_backlinks,
        count(*) as n_referring_domains,
        count(*) filter (where is_followed) as n_followed_referring_domains,
        coalesce(sum(authority_0_100 / 100.0) filter (where is_followed), 0) as authority_weighted_domains,
        max(authority_0_100) as max_authority_0_100
    from per_domain
    group by site_id, url_key
),

per_page_reported as (
    select site_id, url_key, max(n_linking_sites) as n_linking_sites_reported
    from folded
    where backlink_grain = 'target_page'
    group by site_id, url_key
)

select
    coalesce(links.site_id, reported.site_id) as site_id,
    coalesce(links.url_key, reported.url_key) as url_key,
    coalesce(links.n_backlinks, 0) as n_backlinks,
    coalesce(links.n_referring_domains, 0) as n_referring_domains,
    coalesce(links.n_followed_referring_domains, 0) as n_followed_referring_domains,
    reported.n_linking_sites_reported,
    -- the best available count of followed referring domains: link exports, or GSC's count
    greatest(coalesce(links.n_followed_referring_domains, 0), coalesce(reported.n_linking_sites_reported, 0))
        as referring_domains,
    coalesce(links.authority_weighted_domains, 0) as authority_weighted_domains,
    links.max_authority_0_100
from per_page_links as links
full outer join per_page_reported as reported
    on reported.site_id = links.site_id
    and reported.url_key = links.url_key
