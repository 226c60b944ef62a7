with source as (
    select * from {{ source('raw_sis', 'attendance') }}
),

latest as (
    {{ latest_mapped_events('source', ['student_id', 'absence_date', 'periods_missed', 'period_flags_json']) }}
),

renamed as (
    select
        _district_id as district_id,
        {{ skey('absence_record_id') }} as absence_record_id,
        {{ clean_text('student_id') }} as student_id,
        {{ clean_text('school_id') }} as school_id,
        {{ parse_date('absence_date') }} as absence_date,
        {{ clean_text('absence_reason_code') }} as absence_reason_code,
        {{ clean_text('periods_missed') }} as periods_missed,
        period_flags_json,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
