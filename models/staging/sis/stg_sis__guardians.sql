with source as (
    select * from {{ source('raw_sis', 'guardians') }}
),

latest as (
    {{ latest_mapped_file('source') }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('guardian_id') }} as guardian_id,
        {{ clean_text('student_id') }} as student_id,
        {{ clean_text('category') }} as category,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_email('email') }} as email,
        {{ clean_email('alternate_email') }} as alternate_email,
        {{ phone_columns('phone') }},
        {{ phone_columns('alternate_phone') }},
        {{ language_or_english('language_code') }} as language_code,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
