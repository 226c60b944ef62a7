-- One row per student and membership day, at the one school that counts the day: the day's
-- attendance. A membership day with no attendance record is present (attendance_source =
-- no_record). The absent day value is the day's absent share times its instructional value (a
-- half day counts 0.5), exact in absent_day_units.
-- Incremental: only the changed slices (int_attendance_changed_slices) are recomputed.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_slices('student_id', 'attendance_date') }}",
    post_hook="{{ record_consumed_slices() }}",
    **incremental_config('append')
) }}

{%- set floor = slice_floor() %}

-- only days a changed slice can reach: on or after the build's earliest slice start
with membership_days as (
    select * from {{ ref('int_membership_days_expanded') }}
    where is_counted and calendar_date >= {{ floor }}
),

attendance_days as (
    select * from {{ ref('int_attendance_days_rolled_up') }}
    where attendance_date >= {{ floor }}
),

candidate_students as (
    select
        district_id,
        student_id,
        calendar_date as candidate_date
    from membership_days
),

slice_starts as (
    {{ changed_slice_starts('candidate_students') }}
),

days_to_build as (
    select membership_days.*
    from membership_days
    inner join slice_starts
        on
            membership_days.district_id = slice_starts.district_id
            and membership_days.student_id = slice_starts.student_id
            and membership_days.calendar_date >= slice_starts.slice_start
),

attendance_to_build as (
    select attendance_days.*
    from attendance_days
    inner join slice_starts
        on
            attendance_days.district_id = slice_starts.district_id
            and attendance_days.student_id = slice_starts.student_id
            and attendance_days.attendance_date >= slice_starts.slice_start
),

joined as (
    select
        days_to_build.district_id,
        days_to_build.student_id,
        days_to_build.school_id,
        days_to_build.calendar_date as attendance_date,
        days_to_build.instructional_value as membership_value,
        days_to_build.is_inferred_calendar,
        coalesce(attendance_days.attendance_source, 'no_record') as attendance_source,
        attendance_days.absence_code,
        coalesce(attendance_days.attendance_category, 'present') as attendance_category,
        coalesce(attendance_days.absent_units, 0) as absent_units,
        {{ weighted_absent_units('coalesce(attendance_days.absent_units, 0)', 'days_to_build.instructional_value') }}
            as absent_day_units,
        {{ weighted_absent_units('coalesce(attendance_days.absent_units_suspension_as_absent, 0)', 'days_to_build.instructional_value') }}
            as absent_day_units_suspension_as_absent,
        {{ weighted_absent_units('coalesce(attendance_days.absent_units_suspension_excluded, 0)', 'days_to_build.instructional_value') }}
            as absent_day_units_suspension_excluded,
        coalesce(attendance_days.is_unknown_code, false) as has_unknown_code
    from days_to_build
    left join attendance_to_build as attendance_days
        on
            days_to_build.district_id = attendance_days.district_id
            and days_to_build.student_id = attendance_days.student_id
            and days_to_build.school_id = attendance_days.school_id
            and days_to_build.calendar_date = attendance_days.attendance_date
),

final as (
    select
        {{ skey('k_student') }} as k_student,
        {{ skey('k_school') }} as k_school,
        district_id,
        student_id,
        school_id,
        attendance_date,
        membership_value,
        is_inferred_calendar,
        attendance_source,
        absence_code,
        attendance_category,
        {{ absent_days_from_units('absent_units') }} as absent_value,
        {{ absent_days_from_units('absent_day_units') }} as absent_day_value,
        absent_day_units,
        absent_day_units_suspension_as_absent,
        absent_day_units_suspension_excluded,
        absent_units > 0 as is_absent,
        absent_units >= {{ absent_units_per_day() }} as is_whole_day_absent,
        attendance_category = 'tardy' as is_tardy,
        has_unknown_code,
        {{ this_build_started_at() }} as built_at
    from joined
)

select * from final
