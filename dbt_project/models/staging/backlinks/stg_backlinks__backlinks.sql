with source as (
    select * from {{ source('backlinks', 'backlinks') }}
),

renamed as (
    select
        {{ landing_site_id('filename', 'backlinks') }} as site_id,
        {{ landing_run_id('filename', 'backlinks') }} as import_id,
        coalesce(grain, 'link') as backlink_grain,
        source_url,
        source_key,
        lower(source_domain) as source_domain,
        target_url,
        target_key,
        anchor_text,
        coalesce(is_nofollow, false) as is_nofollow,
        coalesce(is_ugc, false) as is_ugc,
        coalesce(is_sponsored, false) as is_sponsored,
        link_type,
        first_seen as first_seen_at,
        last_seen as last_seen_at,
        coalesce(is_lost, false) as is_lost,
        authority_raw,
        authority_metric,
        authority_0_100,
        n_links,
        n_linking_pages,
        n_linking_sites,
        vendor,
        report,
        file as file_name,
        row_number as file_row_number
    from source
    where not {{ is_placeholder_site(landing_site_id('filename', 'backlinks')) }}
)

select * from renamed
