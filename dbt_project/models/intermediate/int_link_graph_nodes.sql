-- The pages of the folded internal link graph, the node table linking.graph reads: every page
-- an edge touches plus every crawled URL (an unlinked start page still has a score).
-- Eligibility is Screaming Frog's for Link Score: a crawled internal 200 HTML page that is not
-- a redirect and not canonicalised to another URL. Ineligible pages (404s, robots-blocked,
-- non-HTML, uncrawled link targets, folded-away variants) stay as nodes so links into them can
-- evaporate in the policy variant.
with edge_pages as (
    select site_id, source_key as url_key from {{ ref('int_link_graph_edges') }}
    union
    select site_id, target_key as url_key from {{ ref('int_link_graph_edges') }}
),

pages as (
    select * from {{ ref('int_pages_indexability') }}
),

all_pages as (
    select site_id, url_key from edge_pages
    union
    select site_id, url_key from pages
),

authority as (
    select * from {{ ref('int_backlink_authority') }}
)

select
    all_pages.site_id,
    all_pages.url_key,
    pages.url,
    pages.url_key is not null as is_crawled,
    coalesce(
        pages.is_ok_html
        and not pages.is_redirect
        and not pages.is_canonicalised
        and pages.resolved_key = pages.url_key,
        false
    ) as is_eligible,
    coalesce(authority.referring_domains, 0) as referring_domains
from all_pages
left join pages
    on pages.site_id = all_pages.site_id
    and pages.url_key = all_pages.url_key
left join authority
    on authority.site_id = all_pages.site_id
    and authority.url_key = all_pages.url_key
