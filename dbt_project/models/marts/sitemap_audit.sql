-- Sitemap problems, one row per (URL, issue): URLs a sitemap lists that search engines should not
-- be sent to (non-200, noindex, canonicalised elsewhere, blocked by robots.txt), URLs listed in
-- several sitemap files or unknown to the crawl, and indexable canonical pages the sitemaps miss
-- (only for sites that have sitemaps at all).
with sitemap_urls as (
    select
        site_id,
        url_key,
        any_value(url) as url,
        list(distinct sitemap_url order by sitemap_url) as sitemap_urls,
        bool_or(is_robots_blocked) as is_robots_blocked_for_us,
        bool_or(is_googlebot_blocked) as is_googlebot_blocked
    from {{ ref('stg_sitemaps__sitemap_urls') }}
    group by site_id, url_key
),

pages as (
    select * from {{ ref('dim_pages') }}
),

crawled as (
    select * from {{ ref('int_pages_indexability') }}
),

inspections as (
    select *
    from {{ ref('stg_gsc__url_inspections') }}
    where error_message is null
    qualify row_number() over (partition by site_id, url_key order by inspected_at desc) = 1
),

listed as (
    select
        sitemap_urls.*,
        crawled.url_key is not null as is_crawled,
        crawled.status_code,
        crawled.crawl_state,
        crawled.is_noindex,
        crawled.is_canonicalised,
        pages.canonical_url,
        pages.final_status_code,
        coalesce(crawled.is_robots_blocked, false)
            or sitemap_urls.is_robots_blocked_for_us
            or sitemap_urls.is_googlebot_blocked
            or coalesce(inspections.robots_txt_state = 'DISALLOWED', false) as is_robots_blocked,
        inspections.robots_txt_state
    from sitemap_urls
    left join crawled
        on crawled.site_id = sitemap_urls.site_id
        and crawled.url_key = sitemap_urls.url_key
    left join pages
        on pages.site_id = sitemap_urls.site_id
        and pages.url_key = sitemap_urls.url_key
    left join inspections
        on inspections.site_id = sitemap_urls.site_id
        and inspections.url_key = sitemap_urls.url_key
),

issues as (
    select site_id, url_key, url, 'non_200' as issue, status_code,
        'HTTP ' || status_code || coalesce(' (chain ends ' || final_status_code || ')', '') as detail,
        sitemap_urls
    from listed
    where status_code is not null and status_code <> 200

    union all

    select site_id, url_key, url, 'noindex', status_code, 'noindex in meta robots or X-Robots-Tag',
        sitemap_urls
    from listed
    where is_noindex

    union all

    select site_id, url_key, url, 'non_canonical', status_code, 'canonical is ' || canonical_url,
        sitemap_urls
    from listed
    where is_canonicalised

    union all

    select site_id, url_key, url, 'robots_blocked', status_code,
        case
            when is_googlebot_blocked then 'robots.txt disallows Googlebot'
            when robots_txt_state = 'DISALLOWED' then 'URL Inspection: robots.txt DISALLOWED'
            else 'robots.txt disallows our crawler'
        end,
        sitemap_urls
    from listed
    where is_robots_blocked

    union all

    select site_id, url_key, url, 'in_multiple_sitemaps', status_code,
        'listed in ' || len(sitemap_urls) || ' sitemap files', sitemap_urls
    from listed
    where len(sitemap_urls) > 1

    union all

    select site_id, url_key, url, 'not_in_crawl', null,
        'the crawl never reached it (not linked, or out of its limits)', sitemap_urls
    from listed
    where not is_crawled

    union all

    select pages.site_id, pages.url_key, pages.url, 'missing_from_sitemap', pages.status_code,
        'indexable canonical page not in any sitemap', []::varchar[]
    from pages
    inner join crawled
        on crawled.site_id = pages.site_id
        and crawled.url_key = pages.url_key
    where crawled.is_ok_html
        and crawled.is_indexable
        and not crawled.is_noindex
        and not crawled.is_canonicalised
        and not pages.in_sitemap
        and pages.is_linked
        and pages.site_id in (select site_id from sitemap_urls)
)

select * from issues
