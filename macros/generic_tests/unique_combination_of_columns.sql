{#-
    Fails for every combination of the given columns that occurs more than once.
    Used as the primary-key test of models whose key spans several columns (district + id).
    Only combinations whose 64-bit hash repeats are grouped by their values, so a table of tens
    of millions of rows is grouped by one integer, not by several strings.
-#}
{% test unique_combination_of_columns(model, combination) %}
    select
        {{ combination | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    where {{ row_hash(combination) }} in (
        select {{ row_hash(combination) }}
        from {{ model }}
        group by {{ row_hash(combination) }}
        having count(*) > 1
    )
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}
