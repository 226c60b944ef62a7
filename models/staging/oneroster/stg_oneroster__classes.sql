with source as (
    select * from {{ source('raw_oneroster', 'classes') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as class_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('title') }} as class_title,
        {{ split_list('grades') }} as grades,
        {{ clean_text('course_sourced_id') }} as course_id,
        {{ clean_text('class_code') }} as class_code,
        {{ clean_enum('class_type') }} as class_type,
        {{ clean_text('location') }} as class_location,
        {{ clean_text('school_sourced_id') }} as school_id,
        {{ split_list('term_sourced_ids') }} as term_ids,
        {{ split_list('subjects') }} as subjects,
        {{ split_list('subject_codes') }} as subject_codes,
        {{ split_list('periods') }} as periods,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
