-- What an attendance team acts on: one row per student and membership day, with the school
-- year so far as of that day. Running totals follow the student across schools (a transfer
-- never resets them), the streak counts consecutive membership days wholly absent, and the
-- projection assumes the year-to-date rate continues over the rest of the current school's
-- calendar. The chronic line is the chronic_absence_threshold var (inclusive), compared in
-- exact absent units.
-- Incremental: a changed slice is recomputed from the student's last row before it, so the
-- running totals continue from there instead of summing the year again.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_slices('student_id', 'attendance_date') }}",
    post_hook="{{ record_consumed_slices() }}",
    **incremental_config('append')
) }}

{%- set floor = slice_floor() %}

-- only days a changed slice can reach: on or after the build's earliest slice start
with daily_attendance as (
    select * from {{ ref('fct_student_daily_attendance') }}
    where attendance_date >= {{ floor }}
),

school_years as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned and session_type = 'schoolYear'
),

school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

candidate_students as (
    select
        district_id,
        student_id,
        attendance_date as candidate_date
    from daily_attendance
),

slice_starts as (
    {{ changed_slice_starts('candidate_students') }}
),

days_to_build as (
    select
        daily_attendance.district_id,
        daily_attendance.student_id,
        daily_attendance.school_id,
        daily_attendance.attendance_date,
        daily_attendance.membership_value,
        daily_attendance.absent_day_units,
        daily_attendance.is_absent,
        daily_attendance.is_whole_day_absent,
        school_years.school_year
    from daily_attendance
    inner join slice_starts
        on
            daily_attendance.district_id = slice_starts.district_id
            and daily_attendance.student_id = slice_starts.student_id
            and daily_attendance.attendance_date >= slice_starts.slice_start
    inner join school_years
        on
            daily_attendance.district_id = school_years.district_id
            and daily_attendance.attendance_date >= school_years.start_date
            and daily_attendance.attendance_date < school_years.end_date
),

-- the running totals as they stood on each changed student's last day before its slice: looked
-- for in the month before the build's earliest slice start, and in the older rows only for the
-- students who have none in that month (usually none, and then the older rows are not read)
{%- if is_incremental() %}
{%- set recent_floor = slice_floor(days_before=31) %}
{%- set carried_columns = ['district_id', 'student_id', 'school_year', 'attendance_date', 'ytd_membership_days',
    'ytd_absent_day_units', 'ytd_absence_count', 'consecutive_absent_days'] %}

    kept_recent as (
        select {% for column in carried_columns %}kept.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ this }} as kept
        inner join slice_starts
            on
                kept.district_id = slice_starts.district_id
                and kept.student_id = slice_starts.student_id
                and kept.attendance_date < slice_starts.slice_start
        where kept.attendance_date >= {{ recent_floor }}
    ),

    -- the changed students with no row in that month (new ones too: they have none at all)
    students_without_recent_rows as {{ materialized_cte() }} (
        select
            slice_starts.district_id,
            slice_starts.student_id,
            slice_starts.slice_start
        from slice_starts
        left join (select distinct district_id, student_id from kept_recent) as recent
            on
                slice_starts.district_id = recent.district_id
                and slice_starts.student_id = recent.student_id
        where recent.student_id is null
    ),

    kept_older as (
        select {% for column in carried_columns %}kept.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ this }} as kept
        inner join students_without_recent_rows as older
            on
                kept.district_id = older.district_id
                and kept.student_id = older.student_id
                and kept.attendance_date < older.slice_start
        where kept.attendance_date < {{ recent_floor }}
    ),

    carried as (
        select
            district_id,
            student_id,
            school_year,
            max_by(ytd_membership_days, attendance_date) as ytd_membership_days,
            max_by(ytd_absent_day_units, attendance_date) as ytd_absent_day_units,
            max_by(ytd_absence_count, attendance_date) as ytd_absence_count,
            max_by(consecutive_absent_days, attendance_date) as consecutive_absent_days
        from (
            select * from kept_recent
            union all
            select * from kept_older
        ) as kept
        group by district_id, student_id, school_year
    ),
{%- else %}

    carried as (
        select
            cast(null as {{ dbt.type_string() }}) as district_id,
            cast(null as {{ dbt.type_string() }}) as student_id,
            cast(null as integer) as school_year,
            cast(null as decimal(18, 2)) as ytd_membership_days,
            cast(null as bigint) as ytd_absent_day_units,
            cast(null as bigint) as ytd_absence_count,
            cast(null as bigint) as consecutive_absent_days
        where false
    ),
{%- endif %}

remaining_school_days as (
    select
        school_days.district_id,
        school_days.school_id,
        school_days.calendar_date,
        cast(sum(school_days.instructional_value) over (
            partition by school_days.district_id, school_days.school_id, school_years.academic_session_id
            order by school_days.calendar_date
            rows between 1 following and unbounded following
        ) as decimal(18, 2)) as remaining_instructional_days
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
        cast(sum(membership_value) over year_to_date as decimal(18, 2)) as run_membership_days,
        cast(sum(absent_day_units) over year_to_date as bigint) as run_absent_day_units,
        cast(sum(case when is_absent then 1 else 0 end) over year_to_date as bigint) as run_absence_count,
        -- islands of consecutive whole-day absences: days since the last day that was not one
        cast(sum(case when is_whole_day_absent then 0 else 1 end) over year_to_date as bigint) as present_day_number
    from days_to_build
    window year_to_date as (
        partition by district_id, student_id, school_year
        order by attendance_date
        rows between unbounded preceding and current row
    )
),

streaks as (
    select
        *,
        cast(sum(case when is_whole_day_absent then 1 else 0 end) over (
            partition by district_id, student_id, school_year, present_day_number
            order by attendance_date
            rows between unbounded preceding and current row
        ) as bigint) as run_consecutive_absent_days
    from running
),

continued as (
    select
        streaks.*,
        cast(coalesce(carried.ytd_membership_days, 0) + streaks.run_membership_days as decimal(18, 2))
            as ytd_membership_days,
        coalesce(carried.ytd_absent_day_units, 0) + streaks.run_absent_day_units as ytd_absent_day_units,
        coalesce(carried.ytd_absence_count, 0) + streaks.run_absence_count as ytd_absence_count,
        -- a streak that was running on the carried day goes on until the first day that is not one
        streaks.run_consecutive_absent_days
        + case when streaks.present_day_number = 0 then coalesce(carried.consecutive_absent_days, 0) else 0 end
            as consecutive_absent_days,
        coalesce(remaining_school_days.remaining_instructional_days, 0) as remaining_instructional_days
    from streaks
    left join carried
        on
            streaks.district_id = carried.district_id
            and streaks.student_id = carried.student_id
            and streaks.school_year = carried.school_year
    left join remaining_school_days
        on
            streaks.district_id = remaining_school_days.district_id
            and streaks.school_id = remaining_school_days.school_id
            and streaks.attendance_date = remaining_school_days.calendar_date
),

final as (
    select
        {{ skey('k_student') }} as k_student,
        {{ skey('k_school') }} as k_school,
        district_id,
        student_id,
        school_id,
        attendance_date,
        school_year,
        is_absent,
        ytd_membership_days,
        {{ absent_days_from_units('ytd_absent_day_units') }} as ytd_absent_days,
        ytd_absent_day_units,
        ytd_absence_count,
        {{ absence_rate('ytd_absent_day_units', 'ytd_membership_days') }} as ytd_absence_rate,
        {{ attendance_risk_tier('ytd_absent_day_units', 'ytd_membership_days') }} as ytd_risk_tier,
        consecutive_absent_days,
        remaining_instructional_days,
        cast(ytd_membership_days + remaining_instructional_days as decimal(18, 2)) as projected_membership_days,
        {{ is_chronically_absent(
            'ytd_absent_day_units',
            'ytd_membership_days',
            'ytd_membership_days + remaining_instructional_days'
        ) }} as is_projected_chronically_absent,
        cast(round(greatest(
            {{ var('chronic_absence_threshold') }} * cast(ytd_membership_days + remaining_instructional_days as {{ type_double() }})
            - cast(ytd_absent_day_units as {{ type_double() }}) / {{ absent_units_per_day() }},
            0
        ), 6) as decimal(18, 6)) as absent_days_until_chronic,
        {{ this_build_started_at() }} as built_at
    from continued
)

select * from final
