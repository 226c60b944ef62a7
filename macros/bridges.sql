{#-
    A bridge model for a OneRoster list field: one row per record and list element, with the
    element's 1-based position in the list. Records that are tombstoned are left out.
-#}
{% macro list_bridge(relation, key_column, list_column, value_column) -%}
    with source_rows as (
        select * from {{ relation }}
        where not is_tombstoned
    ),

    unnested as (
        select
            district_id,
            {{ key_column }},
            {{ unnest_list_with_position(list_column, value_column, 'list_position') }}
        from source_rows
    ),

    final as (
        select
            district_id,
            {{ key_column }},
            {{ value_column }},
            min(list_position) as list_position
        from unnested
        group by district_id, {{ key_column }}, {{ value_column }}
    )

    select * from final
{%- endmacro %}

{#-
    Grade-list bridge mapped to CEDS entry grade levels through xwalk_grade_levels
    (9 -> 09, Kindergarten -> KG); unknown spellings keep a null CEDS code.
-#}
{% macro grade_bridge(relation, key_column) -%}
    with bridge as (
        {{ list_bridge(relation, key_column, 'grades', 'source_grade') }}
    ),

    grade_levels as (
        select * from {{ ref('xwalk_grade_levels') }}
    ),

    final as (
        select
            bridge.district_id,
            bridge.{{ key_column }},
            bridge.source_grade,
            bridge.list_position,
            grade_levels.ceds_grade_level,
            grade_levels.grade_sort_order
        from bridge
        left join grade_levels
            on lower(trim(bridge.source_grade)) = grade_levels.source_grade
    )

    select * from final
{%- endmacro %}

{#-
    subjects and subjectCodes are parallel lists: element n of one names element n of the other.
-#}
{% macro subject_bridge(relation, key_column) -%}
    with subjects as (
        {{ list_bridge(relation, key_column, 'subjects', 'subject') }}
    ),

    subject_codes as (
        {{ list_bridge(relation, key_column, 'subject_codes', 'subject_code') }}
    ),

    final as (
        select
            coalesce(subjects.district_id, subject_codes.district_id) as district_id,
            coalesce(subjects.{{ key_column }}, subject_codes.{{ key_column }}) as {{ key_column }},
            coalesce(subjects.list_position, subject_codes.list_position) as list_position,
            subjects.subject,
            subject_codes.subject_code
        from subjects
        full outer join subject_codes
            on
                subjects.district_id = subject_codes.district_id
                and subjects.{{ key_column }} = subject_codes.{{ key_column }}
                and subjects.list_position = subject_codes.list_position
    )

    select * from final
{%- endmacro %}
