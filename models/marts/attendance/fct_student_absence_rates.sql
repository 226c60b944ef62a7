-- One row per student, school and academic session (school year, semester, term, grading
-- period): membership days, absent days, absence rate and the chronic absenteeism flag.
-- Rates come from absent days / membership days (never from attendance). A student who moved
-- has one row per school, as in federal (EDFacts) reporting.
with daily_attendance as (
    select * from {{ ref('fct_student_daily_attendance') }}
),

sessions as (
    select * from {{ ref('dim_academic_sessions') }}
),

per_session as (
    select
        daily_attendance.district_id,
        daily_attendance.student_id,
        daily_attendance.school_id,
        sessions.academic_session_id,
        sessions.session_type,
        sessions.session_title,
        sessions.school_year,
        sessions.is_current as is_current_session,
        count(*) as membership_day_count,
        sum(daily_attendance.membership_value) as membership_days,
        sum(daily_attendance.absent_day_value) as absent_days,
        sum(case when daily_attendance.attendance_category = 'excused' then daily_attendance.absent_day_value else 0 end)
            as excused_absent_days,
        sum(case when daily_attendance.attendance_category = 'unexcused' then daily_attendance.absent_day_value else 0 end)
            as unexcused_absent_days,
        sum(case when daily_attendance.attendance_category = 'suspension' then daily_attendance.absent_day_value else 0 end)
            as suspension_absent_days,
        sum(case when daily_attendance.is_tardy then 1 else 0 end) as tardy_count,
        min(daily_attendance.attendance_date) as first_membership_date,
        max(daily_attendance.attendance_date) as last_membership_date
    from daily_attendance
    inner join sessions
        on
            daily_attendance.district_id = sessions.district_id
            and daily_attendance.attendance_date >= sessions.start_date
            and daily_attendance.attendance_date < sessions.end_date
    group by
        daily_attendance.district_id,
        daily_attendance.student_id,
        daily_attendance.school_id,
        sessions.academic_session_id,
        sessions.session_type,
        sessions.session_title,
        sessions.school_year,
        sessions.is_current
),

final as (
    select
        {{ gen_skey(['district_id', 'student_id']) }} as k_student,
        {{ gen_skey(['district_id', 'school_id']) }} as k_school,
        {{ gen_skey(['district_id', 'academic_session_id']) }} as k_academic_session,
        district_id,
        student_id,
        school_id,
        academic_session_id,
        session_type,
        session_title,
        school_year,
        is_current_session,
        membership_day_count,
        membership_days,
        absent_days,
        excused_absent_days,
        unexcused_absent_days,
        suspension_absent_days,
        tardy_count,
        first_membership_date,
        last_membership_date,
        {{ absence_rate('absent_days', 'membership_days') }} as absence_rate,
        membership_days >= {{ var('chronic_absence_min_days') }} as meets_minimum_days,
        {{ is_chronically_absent('absent_days', 'membership_days') }} as is_chronically_absent
    from per_session
)

select * from final
