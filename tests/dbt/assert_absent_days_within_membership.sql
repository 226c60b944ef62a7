-- What: absent days never exceed membership days for a student, school and session.
-- When it matters: a rate above 100% means the arithmetic double counts absences (for example
--   duplicate attendance records surviving deduplication).
-- How to fix: this is a model bug, not a data problem; check int_attendance_days_rolled_up.
with student_rates as (
    select * from {{ ref('fct_student_absence_rates') }}
),

final as (
    select
        district_id,
        student_id,
        school_id,
        academic_session_id,
        membership_days,
        absent_days
    from student_rates
    where absent_day_units > membership_days * {{ absent_units_per_day() }}
)

select * from final
