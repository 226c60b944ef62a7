{#-
    not_null for several columns of one model in one scan (large models): fails for every row
    where any of them is null; `null_columns` names which.
-#}
{% test not_null_columns(model, columns) %}
    {%- set flags = [] -%}
    {%- for column in columns -%}
        {%- do flags.append("case when " ~ column ~ " is null then '" ~ column ~ " ' else '' end") -%}
    {%- endfor %}
    select
        {{ columns | join(', ') }},
        {{ dbt.concat(flags) if flags | length > 1 else flags[0] }} as null_columns
    from {{ model }}
    where
        {%- for column in columns %}
            {{ 'or ' if not loop.first }}{{ column }} is null
        {%- endfor %}
{% endtest %}
