{#-
    Fails for every combination of the given columns that occurs more than once.
    Used as the primary-key test of models whose key spans several columns (district + id).
-#}
{% test unique_combination_of_columns(model, combination) %}
    select
        {{ combination | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}
