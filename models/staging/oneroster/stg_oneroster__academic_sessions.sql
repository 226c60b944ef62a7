with source as (
    select * from {{ source('raw_oneroster', 'academic_sessions') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as academic_session_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('title') }} as session_title,
        {{ canonical_enum('type', ['gradingPeriod', 'schoolYear']) }} as session_type,
        {{ parse_date('start_date') }} as start_date,
        {{ parse_date('end_date') }} as end_date,
        {{ clean_text('parent_sourced_id') }} as parent_academic_session_id,
        {{ parse_integer('school_year') }} as school_year,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
