-- The latest finished sitemap run of each site: the newest run folder holding sitemap_run.json
-- (written last, when a run is complete). Both sitemap staging models pick the run by this one
-- marker, so they always describe the same run, never the files of two different runs.
with source as (
    select * from {{ source('sitemaps', 'sitemaps') }}
),

renamed as (
    select
        {{ landing_site_id('filename', 'sitemaps') }} as site_id,
        {{ landing_run_id('filename', 'sitemaps') }} as run_id,
        sitemap_url,
        parent as parent_sitemap_url,
        kind as sitemap_kind,
        status as status_code,
        content_type,
        bytes as n_bytes,
        n_urls,
        coalesce(is_over_url_limit, false) as is_over_url_limit,
        coalesce(is_over_size_limit, false) as is_over_size_limit,
        coalesce(is_partial, false) as is_partial,
        n_duplicates_across,
        n_robots_blocked,
        n_cross_host,
        warnings,
        error_kind,
        error as error_message
    from source
    where {{ in_latest_landing_run('filename', 'sitemaps', 'sitemap_run.json') }}
)

select * from renamed
