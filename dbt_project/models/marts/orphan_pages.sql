-- Orphans: URLs another source knows (a sitemap, Search Console, a backlink) that no internal
-- link path from the start URLs reaches. Only a complete crawl can tell (ultimate-seo-geo PR #48:
-- a partial crawl makes everything it did not reach look orphaned), so a site whose latest crawl
-- is incomplete, or that has no crawl, gets one explicit status row instead of orphan rows. So
-- does a complete crawl whose start URLs reached no page (start URLs that all failed, or a run
-- record without them): with no link path from anywhere, every known URL would read as orphan.
-- Search Console provenance (`gsc` in found_in) comes from dim_pages.in_gsc, i.e. the URL set of
-- every landed Search Console file: a day that fails the search tests still counts, so orphans
-- and their provenance do not wait for the search branch. Search figures: dim_pages_search.
with pages as (
    select * from {{ ref('dim_pages') }}
),

latest_runs as (
    select * from {{ ref('stg_crawl__runs') }}
    where is_latest_run
),

sites as (
    select site_id from pages
    union
    select site_id from latest_runs
),

candidates as (
    select *
    from pages
    where (in_sitemap or in_gsc or in_backlinks)
        and not is_linked
),

site_status as (
    select
        sites.site_id,
        latest_runs.run_id,
        latest_runs.stop_reason,
        latest_runs.stop_message,
        case
            when latest_runs.site_id is null then 'no_crawl'
            when not latest_runs.is_complete then 'crawl_incomplete'
            when not exists (
                select 1 from pages where pages.site_id = sites.site_id and pages.is_linked
            ) then 'no_start_page'
            else 'orphan'
        end as orphan_status,
        (select count(*) from candidates where candidates.site_id = sites.site_id) as n_candidates
    from sites
    left join latest_runs
        on latest_runs.site_id = sites.site_id
)

select
    candidates.site_id,
    candidates.url_key,
    candidates.url,
    site_status.orphan_status,
    list_filter(
        [
            case when candidates.in_sitemap then 'sitemap' end,
            case when candidates.in_gsc then 'gsc' end,
            case when candidates.in_backlinks then 'backlinks' end
        ],
        lambda source: source is not null
    ) as found_in,
    candidates.in_sitemap,
    candidates.in_gsc,
    candidates.in_backlinks,
    candidates.in_crawl,
    candidates.status_code,
    candidates.is_indexable,
    candidates.referring_domains,
    site_status.run_id as crawl_run_id,
    site_status.stop_reason as crawl_stop_reason,
    null::varchar as status_message,
    null::bigint as n_candidates
from candidates
inner join site_status
    on site_status.site_id = candidates.site_id
where site_status.orphan_status = 'orphan'

union all

select
    site_id,
    null as url_key,
    null as url,
    orphan_status,
    []::varchar[] as found_in,
    null as in_sitemap,
    null as in_gsc,
    null as in_backlinks,
    null as in_crawl,
    null as status_code,
    null as is_indexable,
    null as referring_domains,
    run_id as crawl_run_id,
    stop_reason as crawl_stop_reason,
    case orphan_status
        when 'no_crawl' then 'no crawl of this site: orphans cannot be computed'
        when 'no_start_page' then 'the crawl reached no page from its start URLs: orphans cannot '
            || 'be computed; check start_urls and the crawl errors'
        else 'crawl incomplete (' || coalesce(stop_reason, 'unknown') || '): orphans are not computed; '
            || coalesce(stop_message, 'rerun the crawl without limits')
    end as status_message,
    n_candidates
from site_status
where orphan_status <> 'orphan'
