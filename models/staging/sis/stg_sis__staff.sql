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
        {{ clean_text('school_id') }} as school_id,
        {{ clean_text('title_code') }} as title_code,
        {{ sis_contact_columns(has_alternate_email=false) }},
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
