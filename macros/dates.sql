{#- A date from year, month and day expressions. -#}
{% macro date_from_parts(year, month, day) -%}
    {{ return(adapter.dispatch('date_from_parts', 'rollcall')(year, month, day)) }}
{%- endmacro %}

{% macro duckdb__date_from_parts(year, month, day) -%}
    make_date({{ year }}, {{ month }}, {{ day }})
{%- endmacro %}

{% macro spark__date_from_parts(year, month, day) -%}
    make_date({{ year }}, {{ month }}, {{ day }})
{%- endmacro %}

{#- One row per day from start_date (inclusive) to end_date (exclusive), as `calendar_date`, for each input row. -#}
{% macro unnest_days(start_date, end_date) -%}
    {{ return(adapter.dispatch('unnest_days', 'rollcall')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__unnest_days(start_date, end_date) -%}
    cast(unnest(generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp) - interval 1 day, interval 1 day)) as date)
{%- endmacro %}

{% macro spark__unnest_days(start_date, end_date) -%}
    explode(case when cast({{ end_date }} as date) > cast({{ start_date }} as date) then sequence(cast({{ start_date }} as date), date_sub(cast({{ end_date }} as date), 1), interval 1 day) end)
{%- endmacro %}

{#- True on Monday to Friday. -#}
{% macro is_weekday(date_column) -%}
    {{ return(adapter.dispatch('is_weekday', 'rollcall')(date_column)) }}
{%- endmacro %}

{% macro duckdb__is_weekday(date_column) -%}
    (extract(isodow from {{ date_column }}) between 1 and 5)
{%- endmacro %}

{% macro spark__is_weekday(date_column) -%}
    (weekday({{ date_column }}) < 5)
{%- endmacro %}
