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
    where {{ in_latest_landing_run('filename', 'sitemaps', 'sitemaps.parquet') }}
)

select * from renamed
