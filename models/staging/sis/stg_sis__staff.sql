with source as (
    select * from {{ source('raw_sis', 'staff') }}
),

latest as (
    {{ latest_mapped_file('source') }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('staff_id') }} as staff_id,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('school_id') }} as school_id,
        {{ clean_text('title_code') }} as title_code,
        {{ clean_email('email') }} as email,
        {{ phone_columns('phone') }},
        {{ phone_columns('alternate_phone') }},
        {{ language_or_english('language_code') }} as language_code,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
