with source as (
    select * from {{ source('gsc', 'url_inspection') }}
),

renamed as (
    select
        regexp_extract(filename, 'landing/gsc/([^/]+)/', 1) as site_id,
        regexp_extract(filename, '/url_inspection/([^/]+)\.parquet$', 1) as inspection_run_id,
        url_key,
        url,
        inspection_url,
        property_url,
        verdict,
        coverage_state,
        indexing_state,
        page_fetch_state,
        robots_txt_state,
        crawled_as,
        last_crawl_time as last_crawled_at,
        last_crawl_time_raw,
        google_canonical as google_canonical_url,
        google_canonical_key,
        user_canonical as user_canonical_url,
        user_canonical_key,
        sitemaps,
        referring_urls,
        inspected_at,
        error as error_message,
        coalesce(warnings, []::varchar[]) as warnings
    from source
    where not {{ is_placeholder_site("regexp_extract(filename, 'landing/gsc/([^/]+)/', 1)") }}
)

select * from renamed
