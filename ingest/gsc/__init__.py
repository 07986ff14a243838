"""Google Search Console: search analytics and URL Inspection through google-api-python-client.

Plain library (no Dagster): `pull_days` / `pull_day` land search analytics one day per file,
`inspect_urls` lands URL Inspection results under a persisted per-property daily budget. The
Dagster assets in `orchestration/defs/gsc/` and the `linkwarehouse gsc` CLI call these.
"""
