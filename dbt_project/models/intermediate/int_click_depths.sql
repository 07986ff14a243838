-- Click depth: the fewest links to follow from a start URL, by breadth-first search in SQL.
--
-- A link costs 1; a redirect hop costs 0 (the final URL of a redirect gets the depth of the link
-- that pointed at the redirect source). To keep a plain unit-cost BFS, each URL is first expanded
-- to the URLs its redirects lead to (`reached`: itself plus every later hop, walked across rows),
-- and a link or a start URL reaches all of them at once. The crawler's own `crawl_depth` is the
-- depth at which it happened to discover a URL, which concurrent fetching can make too large.
with recursive

pages as (
    select site_id, url_key, url, crawl_state, redirect_chain
    from {{ ref('stg_crawl__pages') }}
),

-- one redirect hop: a URL to the next URL of its chain (loops the crawler stopped, recorded as
-- errors, included: their hops were requested too)
hops as (
    select pages.site_id, pages.url_key as from_key, next_page.url_key as to_key
    from pages
    inner join pages as next_page
        on next_page.site_id = pages.site_id
        and next_page.url = pages.redirect_chain[2].url
    where len(pages.redirect_chain) >= 2
        and next_page.url_key <> pages.url_key
),

redirect_closure (site_id, from_key, to_key, visited) as (
    select site_id, url_key, url_key, [url_key] from pages

    union all

    select redirect_closure.site_id, redirect_closure.from_key, hops.to_key,
        list_append(redirect_closure.visited, hops.to_key)
    from redirect_closure
    inner join hops
        on hops.site_id = redirect_closure.site_id
        and hops.from_key = redirect_closure.to_key
    where not list_contains(redirect_closure.visited, hops.to_key)
),

reached as materialized (
    select distinct site_id, from_key, to_key from redirect_closure
),

links as (
    select distinct site_id, source_key, target_key
    from {{ ref('stg_crawl__links') }}
    where is_internal
),

-- a link reaches its target and every URL the target redirects through
edges as materialized (
    select distinct links.site_id, links.source_key, coalesce(reached.to_key, links.target_key) as target_key
    from links
    left join reached
        on reached.site_id = links.site_id
        and reached.from_key = links.target_key
),

start_urls as (
    select runs.site_id, coalesce(pages.url_key, url_key(runs.start_url)) as url_key
    from (
        select site_id, unnest(start_urls) as start_url
        from {{ ref('stg_crawl__runs') }}
        where is_latest_run
    ) as runs
    left join pages
        on pages.site_id = runs.site_id
        and pages.url = runs.start_url
),

start_pages as materialized (
    select distinct start_urls.site_id, coalesce(reached.to_key, start_urls.url_key) as url_key
    from start_urls
    left join reached
        on reached.site_id = start_urls.site_id
        and reached.from_key = start_urls.url_key
),

bfs (site_id, url_key, click_depth) using key (site_id, url_key) as (
    select site_id, url_key, 0 from start_pages

    union

    select distinct edges.site_id, edges.target_key, bfs.click_depth + 1
    from bfs
    inner join edges
        on edges.site_id = bfs.site_id
        and edges.source_key = bfs.url_key
    anti join recurring.bfs as seen
        on seen.site_id = edges.site_id
        and seen.url_key = edges.target_key
)

select site_id, url_key, click_depth
from bfs
