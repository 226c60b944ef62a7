-- What an attendance team acts on: one row per student and membership day, with the school
-- year so far as of that day. Running totals follow the student across schools (a transfer
-- never resets them), the streak counts consecutive membership days wholly absent, and the
-- projection assumes the year-to-date rate continues over the rest of the current school's
-- calendar. The chronic line is the chronic_absence_threshold var (inclusive).
with daily_attendance as (
    select * from {{ ref('fct_student_daily_attendance') }}
),

school_years as (
    select * from {{ ref('dim_academic_sessions') }}
    where session_type = 'schoolYear'
),

school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

days_in_year as (
    select
        daily_attendance.*,
        school_years.academic_session_id as school_year_session_id,
        school_years.school_year
    from daily_attendance
    inner join school_years
        on
            daily_attendance.district_id = school_years.district_id
            and daily_attendance.attendance_date >= school_years.start_date
            and daily_attendance.attendance_date < school_years.end_date
),

remaining_school_days as (
    select
        school_days.district_id,
        school_days.school_id,
        school_days.calendar_date,
        sum(school_days.instructional_value) over (
            partition by school_days.district_id, school_days.school_id, school_years.academic_session_id
            order by school_days.calendar_date
            rows between 1 following and unbounded following
        ) as remaining_instructional_days
    from school_days
    inner join school_years
        on
            school_days.district_id = school_years.district_id
            and school_days.calendar_date >= school_years.start_date
            and school_days.calendar_date < school_years.end_date
),

running as (
    select
        *,
        sum(membership_value) over year_to_date as ytd_membership_days,
        sum(absent_day_value) over year_to_date as ytd_absent_days,
        sum(case when is_absent then 1 else 0 end) over year_to_date as ytd_absence_count,
        -- islands of consecutive whole-day absences: days since the last day that was not one
        sum(case when absent_value >= 1 then 0 else 1 end) over year_to_date as present_day_number
    from days_in_year
    window year_to_date as (
        partition by district_id, student_id, school_year_session_id
        order by attendance_date
        rows between unbounded preceding and current row
    )
),

streaks as (
    select
        *,
        sum(case when absent_value >= 1 then 1 else 0 end) over (
            partition by district_id, student_id, school_year_session_id, present_day_number
            order by attendance_date
            rows between unbounded preceding and current row
        ) as consecutive_absent_days
    from running
),

final as (
    select
        streaks.k_student,
        streaks.k_school,
        streaks.district_id,
        streaks.student_id,
        streaks.school_id,
        streaks.attendance_date,
        streaks.school_year,
        streaks.is_absent,
        streaks.ytd_membership_days,
        streaks.ytd_absent_days,
        streaks.ytd_absence_count,
        {{ absence_rate('streaks.ytd_absent_days', 'streaks.ytd_membership_days') }} as ytd_absence_rate,
        {{ attendance_risk_tier('streaks.ytd_absent_days', 'streaks.ytd_membership_days') }} as ytd_risk_tier,
        streaks.consecutive_absent_days,
        coalesce(remaining_school_days.remaining_instructional_days, 0) as remaining_instructional_days,
        streaks.ytd_membership_days + coalesce(remaining_school_days.remaining_instructional_days, 0)
            as projected_membership_days,
        {{ is_chronically_absent(
            'streaks.ytd_absent_days',
            'streaks.ytd_membership_days',
            days_for_minimum='streaks.ytd_membership_days + coalesce(remaining_school_days.remaining_instructional_days, 0)'
        ) }} as is_projected_chronically_absent,
        greatest(
            cast({{ var('chronic_absence_threshold') }} as decimal(9, 4))
            * (streaks.ytd_membership_days + coalesce(remaining_school_days.remaining_instructional_days, 0))
            - streaks.ytd_absent_days,
            0
        ) as absent_days_until_chronic
    from streaks
    left join remaining_school_days
        on
            streaks.district_id = remaining_school_days.district_id
            and streaks.school_id = remaining_school_days.school_id
            and streaks.attendance_date = remaining_school_days.calendar_date
)

select * from final
