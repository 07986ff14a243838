-- Where the link equity of each crawled URL ends up: redirects are followed to their final URL
-- (losing `redirect_hop_retention` per hop) and canonicalised pages fold into their canonical
-- (no loss), repeatedly: a canonical that redirects, a redirect to a canonicalised variant...
-- A resolution that comes back on itself (canonical loops, redirect loops) is not folded.
with recursive

pages as (
    select * from {{ ref('stg_crawl__pages') }}
),

redirect_steps as (
    select
        site_id,
        url_key as from_key,
        redirect_final_key as to_key,
        redirect_final_url as to_url,
        n_redirect_hops as n_hops,
        'redirect' as step_kind
    from {{ ref('int_redirects_folded') }}
    where not is_redirect_loop
),

canonical_steps as (
    select
        site_id,
        url_key as from_key,
        canonical_url_key as to_key,
        canonical_url as to_url,
        0 as n_hops,
        'canonical' as step_kind
    from pages
    where crawl_state = 'ok'
        and canonical_url_key is not null
        and canonical_url_key <> url_key
),

steps as materialized (
    select * from redirect_steps
    union all
    select * from canonical_steps
),

walk (site_id, start_key, current_key, current_url, n_hops, n_canonical_steps, n_steps, visited) as (
    select
        site_id,
        from_key,
        to_key,
        to_url,
        n_hops,
        case when step_kind = 'canonical' then 1 else 0 end,
        1,
        [from_key, to_key]
    from steps

    union all

    select
        walk.site_id,
        walk.start_key,
        steps.to_key,
        steps.to_url,
        walk.n_hops + steps.n_hops,
        walk.n_canonical_steps + case when steps.step_kind = 'canonical' then 1 else 0 end,
        walk.n_steps + 1,
        list_append(walk.visited, steps.to_key)
    from walk
    inner join steps
        on steps.site_id = walk.site_id
        and steps.from_key = walk.current_key
    where not list_contains(walk.visited, steps.to_key)
        and walk.n_steps < 100
),

walk_ends as (
    select walk.*, next_step.from_key is not null as is_loop
    from walk
    left join steps as next_step
        on next_step.site_id = walk.site_id
        and next_step.from_key = walk.current_key
    qualify row_number() over (partition by walk.site_id, walk.start_key order by walk.n_steps desc) = 1
),

site_hosts as (
    select * from {{ ref('int_site_hosts') }}
),

resolved as (
    select
        pages.site_id,
        pages.url_key,
        pages.url,
        case when walk_ends.is_loop then pages.url_key else coalesce(walk_ends.current_key, pages.url_key) end
            as resolved_key,
        case when walk_ends.is_loop then pages.url else coalesce(walk_ends.current_url, pages.url) end
            as resolved_url,
        case when walk_ends.is_loop then 0 else coalesce(walk_ends.n_hops, 0) end
            as n_redirect_hops,
        case when walk_ends.is_loop then 0 else coalesce(walk_ends.n_canonical_steps, 0) end
            as n_canonical_steps,
        coalesce(walk_ends.is_loop, false) as is_resolution_loop
    from pages
    left join walk_ends
        on walk_ends.site_id = pages.site_id
        and walk_ends.start_key = pages.url_key
)

select
    resolved.site_id,
    resolved.url_key,
    resolved.url,
    resolved.resolved_key,
    resolved.resolved_url,
    case
        when resolved.resolved_key = resolved.url_key then 'self'
        when resolved.n_canonical_steps = 0 then 'redirect'
        when resolved.n_redirect_hops = 0 then 'canonical'
        else 'redirect_and_canonical'
    end as resolution_kind,
    resolved.n_redirect_hops,
    resolved.n_canonical_steps,
    power({{ var('redirect_hop_retention') }}, resolved.n_redirect_hops)::double as retention,
    site_hosts.netloc is not null as is_resolved_internal,
    resolved.is_resolution_loop
from resolved
left join site_hosts
    on site_hosts.site_id = resolved.site_id
    and site_hosts.netloc = {{ url_netloc('resolved.resolved_url') }}
