-- Search Console rows per day as landed (one file per day, so a re-pulled day replaces its
-- provisional rows). `ctr` is recomputed from the integers so it sums consistently.
select
    site_id,
    search_date,
    search_type,
    url_key,
    page_url,
    query,
    device,
    country,
    search_appearance,
    aggregation_type,
    clicks,
    impressions,
    clicks / nullif(impressions, 0) as ctr,
    avg_position,
    is_provisional,
    property_url
from {{ ref('stg_gsc__search_analytics') }}
