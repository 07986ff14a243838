with source as (
    select * from {{ source('crawl', 'links') }}
),

renamed as (
    select
        {{ landing_site_id('filename', 'crawl') }} as site_id,
        {{ landing_run_id('filename', 'crawl') }} as run_id,
        source_key,
        source_url,
        target_key,
        target_url,
        link_index,
        position as link_position,
        anchor_text,
        coalesce(is_internal, false) as is_internal,
        coalesce(is_nofollow, false) as is_nofollow,
        coalesce(is_ugc, false) as is_ugc,
        coalesce(is_sponsored, false) as is_sponsored,
        coalesce(is_image, false) as is_image,
        rel,
        href_raw
    from source
    where {{ in_latest_crawl_run('filename') }}
)

select * from renamed
