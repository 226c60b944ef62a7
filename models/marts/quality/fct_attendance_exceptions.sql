-- Attendance records that are not counted, one row each with the reason (first that applies):
--   invalid_date              the date could not be read
--   future_date               dated after the day it was loaded
--   duplicate                 a newer record exists for the same student, school, date (and class period)
--   unknown_code              the code is not in absenceCodes.csv (the day counts present)
--   non_instructional_day     not an instructional day of the school's calendar
--   no_enrollment             the student has no student enrollment at the school
--   outside_membership        enrolled at the school, but not on that date
--   counted_at_other_school   enrolled there that day, but an overlapping enrollment at another
--                             school gets the day (int_membership_days_expanded)
-- A record dated after the district's as-of date (the attendance_as_of_date var) is not an
-- exception: it is simply not counted yet.
-- Incremental: only the changed slices (int_attendance_changed_slices) are recomputed.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_slices('student_id', 'attendance_date') }}",
    post_hook="{{ record_consumed_slices() }}",
    **incremental_config('append')
) }}

-- read twice (candidates, records to build): inlined, so each read keeps only the days it needs
with attendance_records as {{ inline_cte() }} (
    select * from {{ ref('int_attendance_records_unioned') }}
    where not is_tombstoned
),

absence_codes as (
    select * from {{ ref('int_absence_codes') }}
    where not is_tombstoned
),

school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

membership_days as (
    select * from {{ ref('int_membership_days_expanded') }}
),

as_of_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

enrollments as (
    select distinct
        district_id,
        user_id as student_id,
        school_id
    from {{ ref('int_enrollments_dated') }}
    where enrollment_role = 'student'
),

candidate_students as (
    select
        district_id,
        user_id as student_id,
        attendance_date as candidate_date
    from attendance_records
),

slice_starts as (
    {{ changed_slice_starts('candidate_students') }}
),

-- read three times (duplicate check, its join): inlined, never held in memory whole
records_to_build as {{ inline_cte() }} (
    select attendance_records.*
    from attendance_records
    inner join slice_starts
        on
            attendance_records.district_id = slice_starts.district_id
            and attendance_records.user_id is not distinct from slice_starts.student_id
            and coalesce(attendance_records.attendance_date, {{ beginning_of_time() }}) >= slice_starts.slice_start
),

membership_to_check as (
    select membership_days.*
    from membership_days
    inner join slice_starts
        on
            membership_days.district_id = slice_starts.district_id
            and membership_days.student_id = slice_starts.student_id
            and membership_days.calendar_date >= slice_starts.slice_start
),

superseded as (
    {{ superseded_attendance_records('records_to_build') }}
),

ranked as (
    select
        records_to_build.*,
        superseded.attendance_record_id is not null as is_superseded
    from records_to_build
    left join superseded
        on
            records_to_build.district_id = superseded.district_id
            and records_to_build.attendance_record_id = superseded.attendance_record_id
            and records_to_build.source_system = superseded.source_system
),

-- the membership checks run on the records' distinct days, not on every record: two relations
-- of days join (at state scale, a join of every record to membership spilled more than 49 GB),
-- and only the few days outside counted membership meet the records again
record_days as (
    select distinct
        district_id,
        user_id as student_id,
        school_id,
        attendance_date
    from records_to_build
    where attendance_date is not null
),

days_outside_counted_membership as (
    select
        record_days.*,
        membership_to_check.calendar_date is null as is_outside_membership
    from record_days
    left join membership_to_check
        on
            record_days.district_id = membership_to_check.district_id
            and record_days.student_id = membership_to_check.student_id
            and record_days.school_id = membership_to_check.school_id
            and record_days.attendance_date = membership_to_check.calendar_date
    where membership_to_check.calendar_date is null or not membership_to_check.is_counted
),

known_codes as (
    select distinct
        district_id,
        absence_code
    from absence_codes
),

classified as (
    select
        ranked.district_id,
        ranked.attendance_record_id,
        ranked.user_id as student_id,
        ranked.school_id,
        ranked.class_id,
        ranked.period,
        ranked.attendance_date,
        ranked.absence_code,
        ranked.source_file,
        ranked.source_row_number,
        ranked.loaded_at,
        case
            when ranked.attendance_date is null then 'invalid_date'
            when ranked.attendance_date > cast(ranked.loaded_at as date) then 'future_date'
            when ranked.is_superseded then 'duplicate'
            when known_codes.absence_code is null then 'unknown_code'
            when school_days.calendar_date is null then 'non_instructional_day'
            when ranked.attendance_date > as_of_dates.as_of_date then null
            when days_outside_counted_membership.is_outside_membership and enrollments.student_id is null
                then 'no_enrollment'
            when days_outside_counted_membership.is_outside_membership then 'outside_membership'
            when not days_outside_counted_membership.is_outside_membership then 'counted_at_other_school'
        end as exception_reason
    from ranked
    left join known_codes
        on
            ranked.district_id = known_codes.district_id
            and ranked.absence_code = known_codes.absence_code
    left join school_days
        on
            ranked.district_id = school_days.district_id
            and ranked.school_id = school_days.school_id
            and ranked.attendance_date = school_days.calendar_date
    left join as_of_dates
        on ranked.district_id = as_of_dates.district_id
    left join enrollments
        on
            ranked.district_id = enrollments.district_id
            and ranked.user_id = enrollments.student_id
            and ranked.school_id = enrollments.school_id
    left join days_outside_counted_membership
        on
            ranked.district_id = days_outside_counted_membership.district_id
            and ranked.user_id = days_outside_counted_membership.student_id
            and ranked.school_id = days_outside_counted_membership.school_id
            and ranked.attendance_date = days_outside_counted_membership.attendance_date
),

final as (
    select
        *,
        {{ this_build_started_at() }} as built_at
    from classified
    where exception_reason is not null
)

select * from final
