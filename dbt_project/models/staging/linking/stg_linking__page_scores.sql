with source as (
    select * from {{ source('linking', 'page_scores') }}
),

renamed as (
    select
        regexp_extract(filename, 'landing/linking/([^/]+)/', 1) as site_id,
        url_key,
        pagerank_raw,
        pagerank_weighted,
        pagerank_tipr,
        pagerank_policy,
        link_score,
        coalesce(is_hoarder, false) as is_hoarder,
        coalesce(is_waster, false) as is_waster,
        inlinks as n_inlinks,
        outlinks as n_outlinks,
        nofollow_policy
    from source
    where not {{ is_placeholder_site("regexp_extract(filename, 'landing/linking/([^/]+)/', 1)") }}
)

select * from renamed
