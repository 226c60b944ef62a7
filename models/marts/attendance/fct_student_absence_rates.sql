-- One row per student, school and academic session (school year, semester, term, grading
-- period): membership days, absent days, absence rate and the chronic absenteeism flag.
-- Rates come from absent days / membership days (never from attendance). A student who moved
-- has one row per school, as in federal (EDFacts) reporting. The chronic flag is decided in
-- exact absent units.
with session_totals as (
    select * from {{ ref('int_attendance_sessions_summed') }}
),

sessions as (
    select * from {{ ref('dim_academic_sessions') }}
),

final as (
    select
        {{ skey('k_student', 'session_totals') }} as k_student,
        {{ skey('k_school', 'session_totals') }} as k_school,
        {{ skey('k_academic_session', 'session_totals') }} as k_academic_session,
        session_totals.district_id,
        session_totals.student_id,
        session_totals.school_id,
        session_totals.academic_session_id,
        sessions.session_type,
        sessions.session_title,
        sessions.school_year,
        sessions.is_current as is_current_session,
        session_totals.membership_day_count,
        session_totals.membership_days,
        {{ absent_days_from_units('session_totals.absent_day_units') }} as absent_days,
        {{ absent_days_from_units('session_totals.excused_absent_day_units') }} as excused_absent_days,
        {{ absent_days_from_units('session_totals.unexcused_absent_day_units') }} as unexcused_absent_days,
        {{ absent_days_from_units('session_totals.suspension_absent_day_units') }} as suspension_absent_days,
        session_totals.tardy_count,
        session_totals.first_membership_date,
        session_totals.last_membership_date,
        session_totals.absent_day_units,
        {{ absence_rate('session_totals.absent_day_units', 'session_totals.membership_days') }} as absence_rate,
        {{ minimum_days_basis('session_totals.membership_days', 'session_totals.membership_day_count') }}
        >= {{ var('chronic_absence_min_days') }} as meets_minimum_days,
        {{ is_chronically_absent(
            'session_totals.absent_day_units',
            'session_totals.membership_days',
            minimum_days_basis('session_totals.membership_days', 'session_totals.membership_day_count')
        ) }} as is_chronically_absent
    from session_totals
    inner join sessions
        on
            session_totals.district_id = sessions.district_id
            and session_totals.academic_session_id = sessions.academic_session_id
)

select * from final
