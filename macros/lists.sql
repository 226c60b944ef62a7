{#- One row per element of a list column (used by the bridge models). -#}
{% macro unnest_list(column) -%}
    {{ return(adapter.dispatch('unnest_list', 'rollcall')(column)) }}
{%- endmacro %}

{% macro default__unnest_list(column) -%}
    unnest({{ column }})
{%- endmacro %}

{#- Like unnest_list, plus the 1-based position of each element (for "first org" rules). -#}
{% macro unnest_list_with_position(column, value_alias, position_alias) -%}
    {{ return(adapter.dispatch('unnest_list_with_position', 'rollcall')(column, value_alias, position_alias)) }}
{%- endmacro %}

{% macro default__unnest_list_with_position(column, value_alias, position_alias) -%}
    unnest({{ column }}) as {{ value_alias }},
    unnest(generate_series(1, len({{ column }}))) as {{ position_alias }}
{%- endmacro %}

{#- Part of a OneRoster userIds item "{type:id}": 'type' or 'value'; braces optional. -#}
{% macro split_user_identifier(item, part) -%}
    {{ return(adapter.dispatch('split_user_identifier', 'rollcall')(item, part)) }}
{%- endmacro %}

{% macro default__split_user_identifier(item, part) -%}
    nullif(trim(regexp_extract(trim({{ item }}), '^\{?\s*([^:}]*?)\s*:\s*(.*?)\s*\}?$', {{ 1 if part == 'type' else 2 }})), '')
{%- endmacro %}
