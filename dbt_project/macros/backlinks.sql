{#- A link flag as its most recent observation says it, whichever export said it: by last seen
    (then first seen), then file name and row for a deterministic tie-break. Observations that do
    not report the flag (null) are skipped. The same rule as ingest/backlinks/merge.py. -#}
{% macro latest_observation(column) -%}
    arg_max(
        {{ column }},
        struct_pack(
            seen := coalesce(last_seen_at, first_seen_at, timestamp '1970-01-01'),
            file := file_name,
            line := file_row_number
        )
    ) filter (where {{ column }} is not null)
{%- endmacro %}
