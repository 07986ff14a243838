with source as (
    select * from {{ source('crawl', 'runs') }}
),

renamed as (
    select
        {{ landing_site_id('filename', 'crawl') }} as site_id,
        {{ landing_run_id('filename', 'crawl') }} as run_id,
        started_at,
        finished_at,
        stop_reason,
        coalesce(complete, false) as is_complete,
        message as stop_message,
        pages_per_s,
        coalesce(start_urls, []::varchar[]) as start_urls,
        coalesce(allowed_hosts, []::varchar[]) as allowed_hosts,
        coalesce(cast(settings ->> 'include_subdomains' as boolean), false) as is_subdomains_included,
        cast(counts ->> 'pages' as bigint) as n_pages,
        cast(counts ->> 'links' as bigint) as n_links,
        cast(counts ->> 'errors' as bigint) as n_errors,
        cast(counts ->> 'queued_not_crawled' as bigint) as n_queued_not_crawled,
        {{ landing_run_id('filename', 'crawl') }}
            = max({{ landing_run_id('filename', 'crawl') }})
                over (partition by {{ landing_site_id('filename', 'crawl') }})
            as is_latest_run
    from source
    where not {{ is_placeholder_site(landing_site_id('filename', 'crawl')) }}
)

select * from renamed
