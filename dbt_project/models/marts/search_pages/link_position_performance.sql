-- Does where a page is linked from go with how it performs in search? Target pages of followed
-- internal links, grouped by the position of those links, with their Search Console figures
-- (int_gsc_page_performance, last `gsc_window_days`). Two segmentations:
--   linked_from       a page counts in every position it has an inlink from (overlapping);
--   primary_position  a page counts once, in the position most of its linking pages use
--                     (ties: content, breadcrumb, sidebar, nav, header, footer).
with edges as (
    select site_id, source_key, target_key, position as link_position, n_links
    from {{ ref('int_link_graph_edges') }}
    where is_followed
),

per_target_position as (
    select
        site_id,
        target_key,
        link_position,
        sum(n_links) as n_links,
        count(distinct source_key) as n_linking_pages
    from edges
    group by site_id, target_key, link_position
),

primary_positions as (
    select site_id, target_key, link_position
    from per_target_position
    qualify row_number() over (
        partition by site_id, target_key
        order by n_linking_pages desc,
            list_position(['content', 'breadcrumb', 'sidebar', 'nav', 'header', 'footer'], link_position)
    ) = 1
),

segments as (
    select 'linked_from' as segmentation, site_id, target_key, link_position, n_links
    from per_target_position
    union all
    select 'primary_position', primary_positions.site_id, primary_positions.target_key,
        primary_positions.link_position, per_target_position.n_links
    from primary_positions
    inner join per_target_position
        on per_target_position.site_id = primary_positions.site_id
        and per_target_position.target_key = primary_positions.target_key
        and per_target_position.link_position = primary_positions.link_position
),

search as (
    select * from {{ ref('int_gsc_page_performance') }}
)

select
    segments.segmentation,
    segments.site_id,
    segments.link_position,
    count(*) as n_target_pages,
    sum(segments.n_links) as n_links,
    count(search.url_key) as n_target_pages_in_search,
    coalesce(sum(search.clicks), 0) as clicks,
    coalesce(sum(search.impressions), 0) as impressions,
    sum(search.clicks) / nullif(sum(search.impressions), 0) as ctr,
    sum(search.avg_position * search.impressions) / nullif(sum(search.impressions), 0) as avg_position,
    avg(coalesce(search.clicks, 0)) as clicks_per_target_page,
    avg(coalesce(search.impressions, 0)) as impressions_per_target_page,
    median(search.avg_position) as median_avg_position
from segments
left join search
    on search.site_id = segments.site_id
    and search.url_key = segments.target_key
group by segments.segmentation, segments.site_id, segments.link_position
