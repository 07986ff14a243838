-- Every crawled redirect followed to where its chain finally ends.
--
-- A row's own redirect_chain can stop early: when a hop is a URL the crawler had already seen,
-- the chain ends there and that URL's row carries the rest. So chains are walked across rows
-- (recursive), counting every hop, with loop protection (a URL is never visited twice).
with recursive

pages as (
    select site_id, url_key, url, final_url_key, final_url, n_redirect_hops, crawl_state,
        status_code
    from {{ ref('stg_crawl__pages') }}
),

steps as materialized (
    select
        site_id,
        url_key as from_key,
        final_url_key as to_key,
        final_url as to_url,
        n_redirect_hops as n_hops
    from pages
    where crawl_state = 'redirect'
        and final_url_key is not null
        and final_url_key <> url_key
),

walk (site_id, start_key, current_key, current_url, n_hops, n_steps, visited) as (
    select site_id, from_key, to_key, to_url, n_hops, 1, [from_key, to_key]
    from steps

    union all

    select
        walk.site_id,
        walk.start_key,
        steps.to_key,
        steps.to_url,
        walk.n_hops + steps.n_hops,
        walk.n_steps + 1,
        list_append(walk.visited, steps.to_key)
    from walk
    inner join steps
        on steps.site_id = walk.site_id
        and steps.from_key = walk.current_key
    where not list_contains(walk.visited, steps.to_key)
        and walk.n_steps < 100
),

chain_ends as (
    select *
    from walk
    qualify row_number() over (partition by site_id, start_key order by n_steps desc) = 1
)

select
    chain_ends.site_id,
    chain_ends.start_key as url_key,
    start_page.url,
    chain_ends.current_key as redirect_final_key,
    chain_ends.current_url as redirect_final_url,
    chain_ends.n_hops as n_redirect_hops,
    chain_ends.n_steps as n_chain_rows,
    -- the walk stopped at a URL that still redirects: the chain comes back on itself
    next_step.from_key is not null as is_redirect_loop,
    final_page.url_key is not null as is_final_crawled,
    final_page.crawl_state as final_crawl_state,
    final_page.status_code as final_status_code
from chain_ends
inner join pages as start_page
    on start_page.site_id = chain_ends.site_id
    and start_page.url_key = chain_ends.start_key
left join steps as next_step
    on next_step.site_id = chain_ends.site_id
    and next_step.from_key = chain_ends.current_key
left join pages as final_page
    on final_page.site_id = chain_ends.site_id
    and final_page.url_key = chain_ends.current_key
