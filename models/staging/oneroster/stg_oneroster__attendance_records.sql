with source as (
    select * from {{ source('raw_oneroster', 'attendance') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as attendance_record_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('user_sourced_id') }} as user_id,
        {{ clean_text('school_sourced_id') }} as school_id,
        {{ clean_text('class_sourced_id') }} as class_id,
        {{ clean_text('period') }} as period,
        {{ parse_date('date') }} as attendance_date,
        {{ clean_text('absence_code') }} as absence_code,
        {{ clean_text('class_sourced_id') }} is null as is_daily_record,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
