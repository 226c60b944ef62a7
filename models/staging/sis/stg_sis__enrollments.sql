with source as (
    select * from {{ source('raw_sis', 'enrollments') }}
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
        {{ clean_text('student_id') }} as student_id,
        {{ clean_text('period') }} as period,
        row_number() over (
            partition by _district_id, school_id, section_id, student_id
            order by _row_number
        ) as copy_number,
        {{ mapped_lineage_columns() }}
    from latest
),

deduplicated as (
    -- the loader refuses rows that conflict; an exact repeat of a row counts once
    select * from renamed
    where copy_number = 1
)

select * from deduplicated
