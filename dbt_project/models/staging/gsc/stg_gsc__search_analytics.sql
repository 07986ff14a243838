with source as (
    select * from {{ source('gsc', 'search_analytics') }}
),

renamed as (
    select
        regexp_extract(filename, 'landing/gsc/([^/]+)/', 1) as site_id,
        property_url,
        "date" as search_date,
        url_key,
        page_url,
        page as page_raw,
        query,
        lower(device) as device,
        country,
        search_appearance,
        coalesce(search_type, 'web') as search_type,
        aggregation_type,
        coalesce(clicks, 0) as clicks,
        coalesce(impressions, 0) as impressions,
        ctr,
        "position" as avg_position,
        coalesce(is_provisional, false) as is_provisional,
        pulled_at
    from source
    where not {{ is_placeholder_site("regexp_extract(filename, 'landing/gsc/([^/]+)/', 1)") }}
)

select * from renamed
