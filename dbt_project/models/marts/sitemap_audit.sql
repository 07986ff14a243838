-- Sitemap problems, one row per (URL, issue): URLs a sitemap lists that search engines should not
-- be sent to (non-200, noindex, canonicalised elsewhere, blocked by robots.txt), URLs listed in
-- several sitemap files or unknown to the crawl, and indexable canonical pages the sitemaps miss
-- (only for sites that have sitemaps at all), and lastmods that mislead: invalid, in the future,
-- or stale.
--
-- Built from the crawl and the sitemaps only (no Search Console model), so it does not wait for
-- the search branch: URL Inspection's robots.txt state is dim_pages_search.gsc_robots_txt_state.
--
-- Stale is judged against the site's own newest lastmod, not today's date: a page whose lastmod
-- stays years behind while the rest of the sitemap moves on is a lastmod nobody maintains, and the
-- result does not change with the day the warehouse is built. Future lastmods (flagged when the
-- sitemap was read) are left out of "newest" so one bogus date cannot make everything stale.
with sitemap_urls as (
    select
        site_id,
        url_key,
        any_value(url) as url,
        list(distinct sitemap_url order by sitemap_url) as sitemap_urls,
        bool_or(is_robots_blocked) as is_robots_blocked_for_us,
        bool_or(is_googlebot_blocked) as is_googlebot_blocked,
        bool_or(is_lastmod_invalid) as is_lastmod_invalid,
        min(lastmod_raw) filter (where is_lastmod_invalid) as invalid_lastmod_raw,
        bool_or(coalesce(list_contains(warnings, 'future_lastmod'), false)) as is_lastmod_future,
        max(lastmod_at) as lastmod_at,
        max(lastmod_at) filter (where not coalesce(list_contains(warnings, 'future_lastmod'), false))
            as past_lastmod_at
    from {{ ref('stg_sitemaps__sitemap_urls') }}
    group by site_id, url_key
),

newest_lastmods as (
    select site_id, max(past_lastmod_at) as newest_lastmod_at
    from sitemap_urls
    group by site_id
),

pages as (
    select * from {{ ref('dim_pages') }}
),

crawled as (
    select * from {{ ref('int_pages_indexability') }}
),

-- "The crawl never reached it" only means something when the crawl went everywhere it could:
-- a site with no crawl, or one stopped at a limit, would list every URL it did not get to.
complete_crawls as (
    select site_id from {{ ref('stg_crawl__runs') }}
    where is_latest_run and is_complete
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
            or sitemap_urls.is_googlebot_blocked as is_robots_blocked
    from sitemap_urls
    left join crawled
        on crawled.site_id = sitemap_urls.site_id
        and crawled.url_key = sitemap_urls.url_key
    left join pages
        on pages.site_id = sitemap_urls.site_id
        and pages.url_key = sitemap_urls.url_key
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
        and site_id in (select site_id from complete_crawls)

    union all

    select site_id, url_key, url, 'invalid_lastmod', status_code,
        'lastmod ' || invalid_lastmod_raw || ' is not a W3C datetime (ignored by search engines)',
        sitemap_urls
    from listed
    where is_lastmod_invalid

    union all

    select site_id, url_key, url, 'future_lastmod', status_code,
        'lastmod ' || strftime(lastmod_at, '%Y-%m-%dT%H:%M:%SZ') || ' is in the future',
        sitemap_urls
    from listed
    where is_lastmod_future

    union all

    select listed.site_id, listed.url_key, listed.url, 'stale_lastmod', listed.status_code,
        'lastmod ' || strftime(listed.past_lastmod_at, '%Y-%m-%d') || ' is more than '
            || {{ var('sitemap_stale_lastmod_days') }} || ' days before the newest lastmod of the '
            || 'site''s sitemaps (' || strftime(newest_lastmods.newest_lastmod_at, '%Y-%m-%d') || ')',
        listed.sitemap_urls
    from listed
    inner join newest_lastmods
        on newest_lastmods.site_id = listed.site_id
    where epoch(newest_lastmods.newest_lastmod_at) - epoch(listed.past_lastmod_at)
        > {{ var('sitemap_stale_lastmod_days') }} * 86400

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
