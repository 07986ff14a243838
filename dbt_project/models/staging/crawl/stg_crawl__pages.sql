-- The latest finished run of each site only (crawl_run.json is written last, when a run
-- finishes; run ids sort by time). Older runs stay in landing for history.
with source as (
    select * from {{ source('crawl', 'pages') }}
),

renamed as (
    select
        {{ landing_site_id('filename', 'crawl') }} as site_id,
        {{ landing_run_id('filename', 'crawl') }} as run_id,
        url_key,
        url,
        requested_url,
        final_url,
        case when final_url = url then url_key else url_key(final_url) end as final_url_key,
        status as status_code,
        final_status as final_status_code,
        greatest(coalesce(len(redirect_chain), 0) - 1, 0) as n_redirect_hops,
        redirect_chain,
        crawl_state,
        content_type,
        coalesce(is_html, false) as is_html,
        -- Sitemap seeds are queued at depth 1,000,000 (ingest/crawl/crawler.py SITEMAP_SEED_DEPTH)
        -- so linked pages go first; that is a queue order, not a depth anyone should read.
        case when depth < 1000000 then depth end as crawl_depth,
        found_on as found_on_url,
        discovered_via,
        canonical as canonical_url,
        case when canonical = url then url_key else url_key(canonical) end as canonical_url_key,
        canonical_source,
        meta_robots,
        x_robots_tag,
        coalesce(is_indexable, false) as is_indexable,
        indexability_reason,
        title,
        h1,
        meta_description,
        word_count,
        content_hash,
        hreflang,
        base_href,
        encoding,
        n_links,
        bytes as n_bytes,
        coalesce(truncated, false) as is_truncated,
        fetched_at,
        response_ms,
        error as error_message
    from source
    where {{ in_latest_crawl_run('filename') }}
)

select * from renamed
