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
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('school_id') }} as school_id,
        {{ clean_text('grade_level') }} as grade_level,
        {{ clean_text('gender') }} as gender,
        {{ parse_date('birth_date') }} as birth_date,
        {{ clean_text('state_id') }} as state_id,
        {{ clean_email('email') }} as email,
        {{ clean_email('alternate_email') }} as alternate_email,
        {{ phone_columns('phone') }},
        {{ phone_columns('alternate_phone') }},
        {{ language_or_english('language_code') }} as language_code,
        guardians_json,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
