{#-
    The primary-key test of a large model: fails for every key (a combination of the given
    columns) that occurs more than once or has a null part. Repeats are found by the key's 64-bit
    hash first, so the table is grouped by one integer, not by several strings.
-#}
{% test primary_key(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    where
        {%- for column in columns %}
            {{ column }} is null or
        {%- endfor %}
        {{ row_hash(columns) }} in (
            select {{ row_hash(columns) }}
            from {{ model }}
            group by {{ row_hash(columns) }}
            having count(*) > 1
        )
    group by {{ columns | join(', ') }}
    having
        count(*) > 1
        {%- for column in columns %}
            or max(case when {{ column }} is null then 1 else 0 end) = 1
        {%- endfor %}
{% endtest %}
