-- One row per student, school and academic session (every level: school year, semester, term,
-- grading period) with the session's membership and absent days summed from the daily fact,
-- absences exact in absent units — the base of the rates and chronic-absenteeism marts. A day
-- counts in every session containing it (start inclusive, end exclusive).
-- Incremental: a student's sessions are summed again when their slice reaches into them.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_slices('student_id', 'session_last_date') }}",
    post_hook="{{ record_consumed_slices() }}",
) }}

with daily_attendance as (
    select * from {{ ref('fct_student_daily_attendance') }}
),

sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned and start_date < end_date
),

session_days as (
    select
        district_id,
        academic_session_id,
        {{ dbt.dateadd('day', -1, 'end_date') }} as session_last_date,
        {{ unnest_days('start_date', 'end_date') }} as calendar_date
    from sessions
),

-- a district-wide change from a date re-sums every session reaching that date, days before it
-- included: a student is a candidate by the last day of the longest session holding any of its days
last_session_day_by_date as (
    select
        district_id,
        calendar_date,
        max(session_last_date) as last_session_date
    from session_days
    group by district_id, calendar_date
),

candidate_students as (
    select
        daily_attendance.district_id,
        daily_attendance.student_id,
        last_session_day_by_date.last_session_date as candidate_date
    from daily_attendance
    inner join last_session_day_by_date
        on
            daily_attendance.district_id = last_session_day_by_date.district_id
            and daily_attendance.attendance_date = last_session_day_by_date.calendar_date
),

slice_starts as (
    {{ changed_slice_starts('candidate_students') }}
),

-- the sessions of each changed student that reach into its slice
sessions_to_build as (
    select distinct
        slice_starts.district_id,
        slice_starts.student_id,
        sessions.academic_session_id
    from slice_starts
    inner join sessions
        on
            slice_starts.district_id = sessions.district_id
            and {{ dbt.dateadd('day', -1, 'sessions.end_date') }} >= slice_starts.slice_start
),

days_in_sessions as (
    select
        daily_attendance.*,
        session_days.academic_session_id,
        session_days.session_last_date
    from daily_attendance
    inner join session_days
        on
            daily_attendance.district_id = session_days.district_id
            and daily_attendance.attendance_date = session_days.calendar_date
    inner join sessions_to_build
        on
            daily_attendance.district_id = sessions_to_build.district_id
            and daily_attendance.student_id = sessions_to_build.student_id
            and session_days.academic_session_id = sessions_to_build.academic_session_id
),

final as (
    select
        district_id,
        student_id,
        school_id,
        academic_session_id,
        session_last_date,
        count(*) as membership_day_count,
        cast(sum(membership_value) as decimal(18, 2)) as membership_days,
        cast(sum(absent_day_units) as bigint) as absent_day_units,
        cast(sum(absent_day_units_suspension_as_absent) as bigint) as absent_day_units_suspension_as_absent,
        cast(sum(absent_day_units_suspension_excluded) as bigint) as absent_day_units_suspension_excluded,
        cast(sum(case when attendance_category = 'excused' then absent_day_units else 0 end) as bigint) as excused_absent_day_units,
        cast(sum(case when attendance_category = 'unexcused' then absent_day_units else 0 end) as bigint) as unexcused_absent_day_units,
        cast(sum(case when attendance_category = 'suspension' then absent_day_units else 0 end) as bigint) as suspension_absent_day_units,
        cast(sum(case when is_tardy then 1 else 0 end) as bigint) as tardy_count,
        min(attendance_date) as first_membership_date,
        max(attendance_date) as last_membership_date
    from days_in_sessions
    group by district_id, student_id, school_id, academic_session_id, session_last_date
)

select * from final
