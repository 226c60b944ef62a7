{#- JSON lists the loader folds repeated columns into ("Guardian N ...", "Period N"). -#}
{% macro unnest_json_list(column) -%}
    {{ return(adapter.dispatch('unnest_json_list', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__unnest_json_list(column) -%}
    unnest(from_json({{ column }}, '["json"]'))
{%- endmacro %}

{% macro spark__unnest_json_list(column) -%}
    explode(from_json({{ column }}, 'array<string>'))
{%- endmacro %}

{% macro json_text(item, key) -%}
    {{ return(adapter.dispatch('json_text', 'rollcall')(item, key)) }}
{%- endmacro %}

{% macro duckdb__json_text(item, key) -%}
    nullif(trim(json_extract_string({{ item }}, '$.{{ key }}')), '')
{%- endmacro %}

{% macro spark__json_text(item, key) -%}
    nullif(trim(get_json_object({{ item }}, '$.{{ key }}')), '')
{%- endmacro %}
