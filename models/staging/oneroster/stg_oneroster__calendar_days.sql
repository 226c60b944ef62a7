with source as (
    select * from {{ source('raw_oneroster', 'calendar') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as calendar_day_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('school_sourced_id') }} as school_id,
        {{ parse_date('date') }} as calendar_date,
        {{ parse_decimal('instructional_value', 3, 2) }} as instructional_value,
        {{ canonical_enum('day_type', ['halfDay', 'professionalDevelopment', 'emergencyClosure']) }} as day_type,
        {{ clean_text('description') }} as day_description,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
