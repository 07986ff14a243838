-- The latest finished sitemap run of each site: the newest run folder holding sitemap_run.json
-- (written last, when a run is complete). Both sitemap staging models pick the run by this one
-- marker, so they always describe the same run, never the files of two different runs.
with source as (
    select * from {{ source('sitemaps', 'sitemap_urls') }}
),

renamed as (
    select
        {{ landing_site_id('filename', 'sitemaps') }} as site_id,
        {{ landing_run_id('filename', 'sitemaps') }} as run_id,
        url_key,
        url,
        sitemap_url,
        lastmod as lastmod_at,
        lastmod_raw,
        lastmod_raw is not null and lastmod is null as is_lastmod_invalid,
        changefreq,
        priority,
        hreflang,
        coalesce(n_images, 0) as n_images,
        coalesce(is_news, false) as is_news,
        coalesce(is_video, false) as is_video,
        coalesce(is_cross_host, false) as is_cross_host,
        coalesce(is_robots_blocked, false) as is_robots_blocked,
        coalesce(is_googlebot_blocked, false) as is_googlebot_blocked,
        warnings,
        error as error_message
    from source
    where {{ in_latest_landing_run('filename', 'sitemaps', 'sitemap_run.json') }}
        and url_key is not null
)

select * from renamed
