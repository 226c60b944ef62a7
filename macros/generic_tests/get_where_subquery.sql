{#-
    dbt's `where` config of data tests, with one placeholder of this project:
    `__rows_of_this_build__` becomes rows_of_this_build() when the test is compiled (at run time,
    so it never comes from a cached parse).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__rows_of_this_build__', rows_of_this_build()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
