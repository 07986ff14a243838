{#- Plain schema names (staging, intermediate, marts) instead of dbt's `main_staging`:
    people query `marts.dim_pages`, and the Dagster translator reads the same names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
