with source as (
    select * from {{ source('crawl', 'errors') }}
),

renamed as (
    select
        {{ landing_site_id('filename', 'crawl') }} as site_id,
        {{ landing_run_id('filename', 'crawl') }} as run_id,
        url_key,
        url,
        stage as error_stage,
        kind as error_kind,
        message as error_message,
        status as status_code,
        found_on as found_on_url,
        "at" as occurred_at
    from source
    where {{ in_latest_crawl_run('filename') }}
)

select * from renamed
