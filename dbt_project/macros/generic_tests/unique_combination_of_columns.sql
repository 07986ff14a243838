{#- dbt-core has no multi-column unique test and the project installs no packages (dbt deps
    would need the network), so the few generic tests the models need live here. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
