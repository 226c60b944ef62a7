with source as (
    select * from {{ source('raw_oneroster', 'enrollments') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as enrollment_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('class_sourced_id') }} as class_id,
        {{ clean_text('school_sourced_id') }} as school_id,
        {{ clean_text('user_sourced_id') }} as user_id,
        {{ clean_enum('role') }} as enrollment_role,
        {{ parse_boolean(adapter.quote('primary')) }} as is_primary,
        {{ parse_date('begin_date') }} as begin_date,
        {{ parse_date('end_date') }} as end_date,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
