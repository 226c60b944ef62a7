-- One row per student, school and membership day: the day's attendance. A membership day with
-- no attendance record is present (attendance_source = no_record). The absent day value is the
-- code's absent value times the day's instructional value (a half day counts 0.5).
with membership_days as (
    select * from {{ ref('int_membership_days_expanded') }}
),

attendance_days as (
    select * from {{ ref('int_attendance_days_rolled_up') }}
),

final as (
    select
        {{ gen_skey(['membership_days.district_id', 'membership_days.student_id']) }} as k_student,
        {{ gen_skey(['membership_days.district_id', 'membership_days.school_id']) }} as k_school,
        membership_days.district_id,
        membership_days.student_id,
        membership_days.school_id,
        membership_days.calendar_date as attendance_date,
        membership_days.instructional_value as membership_value,
        membership_days.is_inferred_calendar,
        coalesce(attendance_days.attendance_source, 'no_record') as attendance_source,
        attendance_days.absence_code,
        coalesce(attendance_days.attendance_category, 'present') as attendance_category,
        coalesce(attendance_days.absent_value, 0) as absent_value,
        membership_days.instructional_value * coalesce(attendance_days.absent_value, 0) as absent_day_value,
        coalesce(attendance_days.absent_value, 0) > 0 as is_absent,
        coalesce(attendance_days.attendance_category = 'tardy', false) as is_tardy,
        coalesce(attendance_days.is_unknown_code, false) as has_unknown_code
    from membership_days
    left join attendance_days
        on
            membership_days.district_id = attendance_days.district_id
            and membership_days.student_id = attendance_days.student_id
            and membership_days.school_id = attendance_days.school_id
            and membership_days.calendar_date = attendance_days.attendance_date
)

select * from final
