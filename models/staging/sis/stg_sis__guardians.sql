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
        {{ sis_contact_columns() }},
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
