{#-
    The key registry: every surrogate key (k_<entity>) and hashed record id, with the columns it
    hashes, in one place. Models write {{ skey('k_school', 'schools') }}, naming the relation the
    columns come from; a column spelled differently there is given as an override
    ({{ skey('k_school', 'schools', school_id='org_id') }}), with a relation of its own when it has a dot.
-#}
{% macro key_registry() -%}
    {{ return({
        'k_district': ['district_id'],
        'k_school': ['district_id', 'school_id'],
        'k_academic_session': ['district_id', 'academic_session_id'],
        'k_course': ['district_id', 'course_id'],
        'k_class': ['district_id', 'class_id'],
        'k_user': ['district_id', 'user_id'],
        'k_student': ['district_id', 'student_id'],
        'k_enrollment': ['district_id', 'enrollment_id'],
        'k_student_identity': ['district_id', 'source_system', 'source_record_id'],
        'person_key': ['district_id', 'anchor_source_system', 'anchor_record_id'],
        'k_assessment_result': [
            'district_id', 'student_identifier', 'assessment_id', 'assessment_number', 'assessment_type'
        ],
        'k_contact': ['district_id', 'user_id', 'channel', 'contact_point'],
        'k_school_audience': ['district_id', 'school_id', 'audience', 'k_contact'],
        'k_teacher_audience': ['district_id', 'teacher_id', 'class_id', 'student_id', 'k_contact'],
        'absence_record_id': ['student_id', 'absence_date', 'periods_missed', 'period_flags_json'],
        'opt_out_event_id': ['contact_point', 'channel', 'recorded_date', 'action'],
    }) }}
{%- endmacro %}

{#- The SQL of key `name` over `relation`'s columns (kwargs: registry column -> column to hash instead). -#}
{% macro skey(name, relation=none) -%}
    {%- set registry = key_registry() -%}
    {%- if name not in registry -%}
        {{ exceptions.raise_compiler_error("skey('" ~ name ~ "'): not in the key registry (macros/keys.sql)") }}
    {%- endif -%}
    {%- for column in kwargs if column not in registry[name] -%}
        {{ exceptions.raise_compiler_error("skey('" ~ name ~ "'): " ~ column ~ " is not one of its columns") }}
    {%- endfor -%}
    {%- set columns = [] -%}
    {%- for column in registry[name] -%}
        {%- set spelled = kwargs.get(column, column) -%}
        {%- do columns.append(spelled if '.' in spelled or relation is none else relation ~ '.' ~ spelled) -%}
    {%- endfor -%}
    {{ gen_skey(columns) }}
{%- endmacro %}
