-- Every URL any source knows, once per site, with where it is known from and the facts each
-- source has about it. URL spelling: the crawl's, else the sitemap's, Search Console's, the
-- backlink export's (all normalized by ingest.urls, so they agree when they coexist).
-- Search Console contributes only which URLs it knows (stg_gsc__page_urls), so this mart builds
-- with the core marts even when a Search Console day fails its tests; its figures (clicks,
-- position, URL Inspection verdicts) are in dim_pages_search, built after the search branch.
with crawl_pages as (
    select * from {{ ref('int_pages_indexability') }}
),

crawl_facts as (
    select * from {{ ref('stg_crawl__pages') }}
),

link_targets as (
    select
        site_id,
        target_key as url_key,
        any_value(target_url) as url,
        count(*) as n_internal_inlinks,
        count(distinct source_key) as n_linking_pages
    from {{ ref('stg_crawl__links') }}
    where is_internal
        and source_key <> target_key
    group by site_id, target_key
),

canonical_targets as (
    select site_id, canonical_url_key as url_key, any_value(canonical_url) as url
    from crawl_facts
    where canonical_url_key is not null
    group by site_id, canonical_url_key
),

sitemap_urls as (
    select
        site_id,
        url_key,
        any_value(url) as url,
        count(distinct sitemap_url) as n_sitemaps,
        max(lastmod_at) as sitemap_lastmod_at
    from {{ ref('stg_sitemaps__sitemap_urls') }}
    group by site_id, url_key
),

gsc_pages as (
    select site_id, url_key, url from {{ ref('stg_gsc__page_urls') }}
),

backlink_targets as (
    select site_id, target_key as url_key, any_value(target_url) as url
    from {{ ref('stg_backlinks__backlinks') }}
    where target_key is not null
    group by site_id, target_key
),

known as (
    select site_id, url_key, url, 'crawl' as source, 1 as url_priority from crawl_pages
    union all
    select site_id, url_key, url, 'crawl_link', 2 from link_targets
    union all
    select site_id, url_key, url, 'crawl_canonical', 3 from canonical_targets
    union all
    select site_id, url_key, url, 'sitemap', 4 from sitemap_urls
    union all
    select site_id, url_key, url, 'gsc', 5 from gsc_pages
    union all
    select site_id, url_key, url, 'backlinks', 6 from backlink_targets
),

urls as (
    select
        site_id,
        url_key,
        arg_min(url, url_priority) as url,
        bool_or(source = 'crawl') as in_crawl,
        bool_or(source = 'crawl_link') as is_link_target,
        bool_or(source = 'sitemap') as in_sitemap,
        bool_or(source = 'gsc') as in_gsc,
        bool_or(source = 'backlinks') as in_backlinks
    from known
    where url_key is not null
    group by site_id, url_key
),

authority as (
    select * from {{ ref('int_backlink_authority') }}
),

depths as (
    select * from {{ ref('int_click_depths') }}
)

select
    urls.site_id,
    urls.url_key,
    urls.url,
    urls.in_crawl,
    urls.in_sitemap,
    urls.in_gsc,
    urls.in_backlinks,
    list_filter(
        [
            case when urls.in_crawl or urls.is_link_target then 'crawl' end,
            case when urls.in_sitemap then 'sitemap' end,
            case when urls.in_gsc then 'gsc' end,
            case when urls.in_backlinks then 'backlinks' end
        ],
        lambda source: source is not null
    ) as known_by,
    depths.url_key is not null as is_linked,
    coalesce(link_targets.n_internal_inlinks, 0) as n_internal_inlinks,
    coalesce(link_targets.n_linking_pages, 0) as n_linking_pages,
    depths.click_depth,
    crawl_pages.crawl_state,
    crawl_pages.status_code,
    crawl_facts.final_status_code,
    crawl_facts.content_type,
    crawl_pages.is_indexable,
    crawl_pages.indexability_reason,
    crawl_pages.is_noindex,
    crawl_pages.is_canonicalised,
    crawl_pages.is_robots_blocked,
    crawl_facts.canonical_url,
    crawl_facts.title,
    crawl_facts.h1,
    crawl_facts.word_count,
    crawl_facts.crawl_depth,
    coalesce(crawl_pages.resolved_key, urls.url_key) as resolved_key,
    coalesce(crawl_pages.resolution_kind, 'self') as resolution_kind,
    coalesce(sitemap_urls.n_sitemaps, 0) as n_sitemaps,
    sitemap_urls.sitemap_lastmod_at,
    coalesce(authority.referring_domains, 0) as referring_domains,
    coalesce(authority.n_backlinks, 0) as n_backlinks
from urls
left join crawl_pages
    on crawl_pages.site_id = urls.site_id
    and crawl_pages.url_key = urls.url_key
left join crawl_facts
    on crawl_facts.site_id = urls.site_id
    and crawl_facts.url_key = urls.url_key
left join link_targets
    on link_targets.site_id = urls.site_id
    and link_targets.url_key = urls.url_key
left join sitemap_urls
    on sitemap_urls.site_id = urls.site_id
    and sitemap_urls.url_key = urls.url_key
left join authority
    on authority.site_id = urls.site_id
    and authority.url_key = urls.url_key
left join depths
    on depths.site_id = urls.site_id
    and depths.url_key = urls.url_key
