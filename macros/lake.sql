{#-
    on-run-start: the raw tables a build reads. On DuckDB the loaders land them in the warehouse
    itself. On Spark they are parquet files in the lake folder ($ROLLCALL_LAKE_PATH, written by
    loaders/lake.py): each table listed in the lake's catalog is registered again (an external
    table: dropping it keeps the files), so a build sees the files and columns of the latest loads.
-#}
{% macro register_lake_tables() -%}
    {{ return(adapter.dispatch('register_lake_tables', 'rollcall')()) }}
{%- endmacro %}

{% macro duckdb__register_lake_tables() -%}
    select 1
{%- endmacro %}

{% macro spark__register_lake_tables() -%}
    {%- if execute -%}
        {%- set catalog = env_var('ROLLCALL_LAKE_PATH', 'warehouse/lake') ~ '/_catalog' -%}
        {%- set tables = run_query('select schema_name, table_name, location from parquet.`' ~ catalog ~ '`') -%}
        {%- for table in tables.rows -%}
            {%- do run_query('create schema if not exists ' ~ table[0]) -%}
            {%- do run_query('drop table if exists ' ~ table[0] ~ '.' ~ table[1]) -%}
            {%- do run_query('create table ' ~ table[0] ~ '.' ~ table[1] ~ " using parquet location '" ~ table[2] ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
