-- Link equity per page of the folded internal graph: the PageRank variants linking.graph computed
-- (landed as the linking.page_scores source), the page's place in its site, and the graph policy
-- that produced them: the nofollow policy comes with the scores (the one PageRank applied), the
-- redirect retention is the dbt var that weighted the edges.
with scores as (
    select * from {{ ref('stg_linking__page_scores') }}
),

nodes as (
    select * from {{ ref('int_link_graph_nodes') }}
),

depths as (
    select * from {{ ref('int_click_depths') }}
),

authority as (
    select * from {{ ref('int_backlink_authority') }}
)

select
    nodes.site_id,
    nodes.url_key,
    nodes.url,
    nodes.is_eligible,
    nodes.is_crawled,
    scores.link_score,
    case when scores.link_score is not null then
        rank() over (partition by nodes.site_id order by scores.link_score desc nulls last)
    end as link_score_rank,
    scores.pagerank_raw,
    scores.pagerank_weighted,
    scores.pagerank_policy,
    scores.pagerank_tipr,
    scores.pagerank_tipr / nullif(scores.pagerank_policy, 0) as tipr_lift,
    scores.is_hoarder,
    scores.is_waster,
    scores.n_inlinks,
    scores.n_outlinks,
    nodes.referring_domains,
    coalesce(authority.authority_weighted_domains, 0) as authority_weighted_domains,
    depths.click_depth,
    scores.nofollow_policy,
    {{ var('redirect_hop_retention') }}::double as redirect_hop_retention
from nodes
inner join scores
    on scores.site_id = nodes.site_id
    and scores.url_key = nodes.url_key
left join depths
    on depths.site_id = nodes.site_id
    and depths.url_key = nodes.url_key
left join authority
    on authority.site_id = nodes.site_id
    and authority.url_key = nodes.url_key
