-- What: at most one teacher enrollment per class is marked primary at any time (OneRoster 1.1:
--   "only one teacher should be designated as the primary teacher for a class").
-- When it matters: teacher-to-class messaging and rosters show the wrong lead teacher.
-- How to fix: set primary=false on all but one of the overlapping teacher enrollments.
{{ config(severity = 'warn') }}

with teachers as (
    select * from {{ ref('int_enrollments_dated') }}
    where enrollment_role = 'teacher' and is_primary
),

final as (
    select
        first_teacher.district_id,
        first_teacher.class_id,
        first_teacher.enrollment_id,
        second_teacher.enrollment_id as overlapping_enrollment_id
    from teachers as first_teacher
    inner join teachers as second_teacher
        on
            first_teacher.district_id = second_teacher.district_id
            and first_teacher.class_id = second_teacher.class_id
            and first_teacher.enrollment_id < second_teacher.enrollment_id
            and coalesce(first_teacher.effective_begin_date, date '1900-01-01')
            < coalesce(second_teacher.effective_end_date, date '9999-12-31')
            and coalesce(second_teacher.effective_begin_date, date '1900-01-01')
            < coalesce(first_teacher.effective_end_date, date '9999-12-31')
)

select * from final
