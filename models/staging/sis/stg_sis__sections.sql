with source as (
    select * from {{ source('raw_sis', 'sections') }}
),

latest as (
    {{ latest_mapped_file('source') }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('school_id') }} || ':' || {{ clean_text('section_id') }} as class_id,
        {{ clean_text('school_id') }} as school_id,
        {{ clean_text('section_id') }} as section_id,
        {{ clean_text('staff_id') }} as teacher_id,
        {{ clean_text('period') }} as period,
        {{ clean_text('course_name') }} as course_name,
        {{ clean_text('instructor_name') }} as instructor_name,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
