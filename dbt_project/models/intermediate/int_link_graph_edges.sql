-- The internal link graph PageRank runs on (columns: linking.graph's edge contract): one row per (source page, folded target, position).
--
-- * Targets are folded (int_urls_resolved): a link to a redirect counts for the redirect's final
--   URL with `redirect_hop_retention` per hop as its weight, a link to a canonicalised variant
--   counts for the canonical. A target that resolves off the site keeps the linked URL (an
--   ineligible page, so the link evaporates in the policy variant).
-- * Sources are not folded: a canonicalised or redirected page is not eligible, so linking.graph
--   ignores its links, as Screaming Frog's Link Score does.
-- * Self-links (after folding: a product linking to its own colour variant) are dropped.
-- * nofollow (and ugc/sponsored) links are kept with is_followed false, whatever the policy:
--   PageRank applies the site's nofollow policy (evaporate, drop or follow; PageRankSettings,
--   the `pagerank:` block of the config) so the policy is decided in one place only.
-- * Repeats are deduplicated per position: a page linking twice to a target from its content
--   is one content edge; linking from its nav and its footer is two edges (two placements).
with links as (
    select *
    from {{ ref('stg_crawl__links') }}
    where is_internal
),

resolution as (
    select * from {{ ref('int_urls_resolved') }}
),

folded as (
    select
        links.site_id,
        links.source_key,
        case
            when coalesce(resolution.is_resolved_internal, true)
                then coalesce(resolution.resolved_key, links.target_key)
            else links.target_key
        end as target_key,
        links.target_key as linked_key,
        links.link_position,
        not (links.is_nofollow or links.is_ugc or links.is_sponsored) as is_followed,
        case
            when coalesce(resolution.is_resolved_internal, true) then coalesce(resolution.retention, 1.0)
            else 1.0
        end as retention,
        case
            when coalesce(resolution.is_resolved_internal, true) then coalesce(resolution.n_redirect_hops, 0)
            else 0
        end as n_redirect_hops,
        coalesce(resolution.resolution_kind, 'self') as target_resolution_kind
    from links
    left join resolution
        on resolution.site_id = links.site_id
        and resolution.url_key = links.target_key
)

select
    site_id,
    source_key,
    target_key,
    link_position as position,
    coalesce(max(retention) filter (where is_followed), max(retention)) as weight,
    bool_or(is_followed) as is_followed,
    count(*) as n_links,
    min(n_redirect_hops) as n_redirect_hops,
    bool_or(target_resolution_kind <> 'self') as is_folded
from folded
where source_key <> target_key
group by site_id, source_key, target_key, link_position
