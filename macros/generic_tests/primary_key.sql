{#-
    The primary-key test of a large model, in one scan: fails for every key (a combination of the
    given columns) that occurs more than once or has a null part.
-#}
{% test primary_key(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having
        count(*) > 1
        {%- for column in columns %}
            or max(case when {{ column }} is null then 1 else 0 end) = 1
        {%- endfor %}
{% endtest %}
