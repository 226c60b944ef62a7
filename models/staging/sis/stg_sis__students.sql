with source as (
    select * from {{ source('raw_sis', 'students') }}
),

latest as (
    {{ latest_mapped_file('source') }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('student_id') }} as student_id,
        {{ clean_text('school_id') }} as school_id,
        {{ clean_text('grade_level') }} as grade_level,
        {{ clean_text('gender') }} as gender,
        {{ parse_date('birth_date') }} as birth_date,
        {{ clean_text('state_id') }} as state_id,
        {{ sis_contact_columns() }},
        guardians_json,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
