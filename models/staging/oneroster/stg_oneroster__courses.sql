with source as (
    select * from {{ source('raw_oneroster', 'courses') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as course_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('school_year_sourced_id') }} as school_year_session_id,
        {{ clean_text('title') }} as course_title,
        {{ clean_text('course_code') }} as course_code,
        {{ split_list('grades') }} as grades,
        {{ clean_text('org_sourced_id') }} as org_id,
        {{ split_list('subjects') }} as subjects,
        {{ split_list('subject_codes') }} as subject_codes,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
