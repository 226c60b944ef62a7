{#-
    Cross-source student identity resolution (and the staging of the mapped exports it reads).
    DuckDB-only SQL stays in the adapter-dispatched macros below.
-#}

{#-
    The rows of a mapped raw table (raw_<source>.<table>), or no rows with the table's
    documented columns when nothing has been landed for that format yet: a warehouse that only
    receives OneRoster packages still builds. Column types come from the source YAML
    (`data_type`, default text).
-#}
{% macro mapped_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute or load_relation(relation) is not none -%}
        select * from {{ relation }}
    {%- else -%}
        {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
        select
            {%- for column in node.columns.values() %}
            cast(null as {{ column.data_type or dbt.type_string() }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#-
    Settings with district overrides: one row per district of `districts` and value of `key`,
    taken from the district's own row when it has one, else from the default row
    (district_id '*'). The resolved district is `setting_district_id`; `is_district_setting`
    tells which row won.
-#}
{% macro district_settings(settings, districts, key) -%}
    select *
    from (
        select
            {{ districts }}.district_id as setting_district_id,
            {{ settings }}.*,
            {{ settings }}.district_id <> '*' as is_district_setting,
            row_number() over (
                partition by {{ districts }}.district_id, {{ settings }}.{{ key }}
                order by case when {{ settings }}.district_id = '*' then 1 else 0 end
            ) as setting_rank
        from {{ districts }}
        inner join {{ settings }}
            on {{ settings }}.district_id in ({{ districts }}.district_id, '*')
    ) as ranked_settings
    where setting_rank = 1
{%- endmacro %}

{#-
    Candidates of an exact match rule: every anchor record (CTE `anchors`) of the district whose
    `keys` all equal those of a non-anchor record (CTE `non_anchors`); a null key matches nothing.
-#}
{% macro exact_rule_candidates(rule_name, keys) -%}
    select
        non_anchors.district_id,
        non_anchors.source_system,
        non_anchors.source_record_id,
        '{{ rule_name }}' as rule_name,
        anchors.source_system as anchor_source_system,
        anchors.source_record_id as anchor_record_id,
        cast(null as decimal(9, 4)) as name_similarity
    from non_anchors
    inner join anchors
        on
            non_anchors.district_id = anchors.district_id
            {%- for key in keys %}
            and non_anchors.{{ key }} = anchors.{{ key }}
            {%- endfor %}
{%- endmacro %}

{#- An email address for matching: an address (clean_email), lower case, without any spaces. -#}
{% macro normalize_email(column) -%}
    replace({{ clean_email(column) }}, ' ', '')
{%- endmacro %}

{#- A name part for matching: lower case, accents removed, letters only ("O'Brien-Smith" -> obriensmith). -#}
{% macro normalize_name(column) -%}
    {{ return(adapter.dispatch('normalize_name', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__normalize_name(column) -%}
    nullif(regexp_replace(lower(strip_accents(trim({{ column }}))), '[^a-z]', '', 'g'), '')
{%- endmacro %}

{#- Similarity of two normalized names, 0 (nothing alike) to 1 (equal): Jaro-Winkler. -#}
{% macro name_similarity(left_name, right_name) -%}
    {{ return(adapter.dispatch('name_similarity', 'rollcall')(left_name, right_name)) }}
{%- endmacro %}

{% macro duckdb__name_similarity(left_name, right_name) -%}
    jaro_winkler_similarity({{ left_name }}, {{ right_name }})
{%- endmacro %}
