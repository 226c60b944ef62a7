{#- One row per element of a list column (used by the bridge models). -#}
{% macro unnest_list(column) -%}
    {{ return(adapter.dispatch('unnest_list', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__unnest_list(column) -%}
    unnest({{ column }})
{%- endmacro %}

{% macro spark__unnest_list(column) -%}
    explode({{ column }})
{%- endmacro %}

{#- Like unnest_list, plus the 1-based position of each element (for "first org" rules). -#}
{% macro unnest_list_with_position(column, value_alias, position_alias) -%}
    {{ return(adapter.dispatch('unnest_list_with_position', 'rollcall')(column, value_alias, position_alias)) }}
{%- endmacro %}

{% macro duckdb__unnest_list_with_position(column, value_alias, position_alias) -%}
    unnest({{ column }}) as {{ value_alias }},
    unnest(generate_series(1, len({{ column }}))) as {{ position_alias }}
{%- endmacro %}

{% macro spark__unnest_list_with_position(column, value_alias, position_alias) -%}
    inline(transform({{ column }}, (element, position) -> named_struct('value', element, 'position', position + 1))) as ({{ value_alias }}, {{ position_alias }})
{%- endmacro %}

{#- Part of a OneRoster userIds item "{type:id}": 'type' or 'value'; braces optional. -#}
{% macro split_user_identifier(item, part) -%}
    {{ return(adapter.dispatch('split_user_identifier', 'rollcall')(item, part)) }}
{%- endmacro %}

{% macro duckdb__split_user_identifier(item, part) -%}
    nullif(trim(regexp_extract(trim({{ item }}), '^\{?\s*([^:}]*?)\s*:\s*(.*?)\s*\}?$', {{ 1 if part == 'type' else 2 }})), '')
{%- endmacro %}

{% macro spark__split_user_identifier(item, part) -%}
    nullif(trim(regexp_extract(trim({{ item }}), r'^\{?\s*([^:}]*?)\s*:\s*(.*?)\s*\}?$', {{ 1 if part == 'type' else 2 }})), '')
{%- endmacro %}

{#-
    previous_slices of an attendance record: the (student_id, attendance_date) pairs it held
    before corrections moved it, so the incremental models recompute the days it left.
-#}
{% macro previous_slices_type() -%}
    {{ return(adapter.dispatch('previous_slices_type', 'rollcall')()) }}
{%- endmacro %}

{% macro duckdb__previous_slices_type() -%}
    struct(student_id varchar, attendance_date date)[]
{%- endmacro %}

{% macro spark__previous_slices_type() -%}
    array<struct<student_id: string, attendance_date: date>>
{%- endmacro %}

{#- The distinct (student_id, attendance_date) pairs of a group, as previous_slices. -#}
{% macro collect_previous_slices(student_id, attendance_date) -%}
    {{ return(adapter.dispatch('collect_previous_slices', 'rollcall')(student_id, attendance_date)) }}
{%- endmacro %}

{% macro duckdb__collect_previous_slices(student_id, attendance_date) -%}
    list(distinct {'student_id': {{ student_id }}, 'attendance_date': {{ attendance_date }}})
{%- endmacro %}

{% macro spark__collect_previous_slices(student_id, attendance_date) -%}
    collect_set(named_struct('student_id', {{ student_id }}, 'attendance_date', {{ attendance_date }}))
{%- endmacro %}

{#- A join clause: one row per pair of `slices`, as alias.student_id and alias.attendance_date. -#}
{% macro unnest_previous_slices(slices, alias) -%}
    {{ return(adapter.dispatch('unnest_previous_slices', 'rollcall')(slices, alias)) }}
{%- endmacro %}

{% macro duckdb__unnest_previous_slices(slices, alias) -%}
    cross join lateral (select unnest({{ slices }}, recursive := true)) as {{ alias }}
{%- endmacro %}

{% macro spark__unnest_previous_slices(slices, alias) -%}
    lateral view inline({{ slices }}) {{ alias }} as student_id, attendance_date
{%- endmacro %}
