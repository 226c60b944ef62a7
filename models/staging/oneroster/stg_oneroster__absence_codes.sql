with source as (
    select * from {{ source('raw_oneroster', 'absence_codes') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as absence_code_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('code') }} as absence_code,
        {{ clean_text('description') }} as absence_code_description,
        {{ parse_decimal('absent_value', 5, 4) }} as absent_value,
        {{ canonical_enum('category', ['earlyDeparture']) }} as attendance_category,
        {{ clean_text('org_sourced_id') }} as org_id,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
