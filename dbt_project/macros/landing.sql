{#- Helpers for landing paths: `landing/<source>/<site>/<run>/<file>`.

    Sources read landing files with `filename=true`; the site and the run are parts of the path
    (the landing contract), so they are derived here once instead of in every staging model. -#}

{% macro landing_path_part(filename_column, source_name, index) -%}
    regexp_extract({{ filename_column }}, 'landing/{{ source_name }}/([^/]+)/([^/]+)/', {{ index }})
{%- endmacro %}

{% macro landing_site_id(filename_column, source_name) -%}
    {{ landing_path_part(filename_column, source_name, 1) }}
{%- endmacro %}

{% macro landing_run_id(filename_column, source_name) -%}
    {{ landing_path_part(filename_column, source_name, 2) }}
{%- endmacro %}

{#- Placeholder files (zero rows, written before dbt runs so every glob matches) live under
    `landing/<source>/_empty/`; site ids cannot start with `_`, so this never hides a site. -#}
{% macro is_placeholder_site(site_id_column) -%}
    starts_with({{ site_id_column }}, '_')
{%- endmacro %}

{#- Host with port (`netloc`, as ingest.urls.host_of and the crawl scope spell it) of a
    normalized absolute URL. -#}
{% macro url_netloc(url_column) -%}
    regexp_extract({{ url_column }}, '^[a-z][a-z0-9+.-]*://([^/?#]*)', 1)
{%- endmacro %}

{#- True for rows of a crawl landing file that belongs to the latest finished run of its site.
    The latest run comes from crawl_run.json (written last, only when a run finishes), not from
    the rows themselves: a run with no errors or no links still has (empty) files, and taking the
    newest run among rows would silently fall back to an older run. -#}
{% macro in_latest_crawl_run(filename_column) -%}
    parse_dirpath({{ filename_column }}) in (
        select parse_dirpath(filename)
        from {{ source('crawl', 'runs') }}
        where not {{ is_placeholder_site(landing_site_id('filename', 'crawl')) }}
        qualify {{ landing_run_id('filename', 'crawl') }} = max({{ landing_run_id('filename', 'crawl') }})
            over (partition by {{ landing_site_id('filename', 'crawl') }})
    )
{%- endmacro %}

{#- True for rows of a landing file that belongs to the newest run folder of its site, judged by
    which run folders *have* the file (glob), not by rows: a run whose file is empty is still the
    newest run. For sources laid out as `landing/<source>/<site>/<run>/<file_name>`. -#}
{% macro in_latest_landing_run(filename_column, source_name, file_name) -%}
    parse_dirpath({{ filename_column }}) in (
        select parse_dirpath(file)
        from glob('landing/{{ source_name }}/*/*/{{ file_name }}')
        where not {{ is_placeholder_site(landing_site_id('file', source_name)) }}
        qualify {{ landing_run_id('file', source_name) }} = max({{ landing_run_id('file', source_name) }})
            over (partition by {{ landing_site_id('file', source_name) }})
    )
{%- endmacro %}
