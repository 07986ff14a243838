-- Every page URL Search Console reported for a site (search analytics or URL Inspection), once.
-- Only the URL set: it is what dim_pages' `in_gsc` and orphan_pages' provenance need, and it
-- does not depend on whether a day's rows pass the search tests (a duplicated or otherwise bad
-- day stops the search branch, not the core marts that read this model). Figures (clicks,
-- verdicts...) stay in the search branch: int_gsc_page_performance, dim_pages_search.
with source as (
    select
        regexp_extract(filename, 'landing/gsc/([^/]+)/', 1) as site_id,
        url_key,
        page_url as url,
        'search_analytics' as reported_by
    from {{ source('gsc', 'search_analytics') }}
    union all
    select
        regexp_extract(filename, 'landing/gsc/([^/]+)/', 1) as site_id,
        url_key,
        url,
        'url_inspection' as reported_by
    from {{ source('gsc', 'url_inspection') }}
),

renamed as (
    select
        site_id,
        url_key,
        min(url) as url,
        bool_or(reported_by = 'search_analytics') as in_search_analytics,
        bool_or(reported_by = 'url_inspection') as in_url_inspection
    from source
    where url_key is not null
        and not {{ is_placeholder_site('site_id') }}
    group by site_id, url_key
)

select * from renamed
