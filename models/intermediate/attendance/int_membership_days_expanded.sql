-- Membership: one row per student, school and instructional day on which the student was
-- enrolled there (any student enrollment at the school with begin <= day < end), up to the
-- district's as-of date. Overlapping or duplicated enrollments at one school never count a day
-- twice. A day belongs to one school only (is_counted): when enrollments at two schools overlap,
-- the school whose enrollment began last gets the day (a transfer entered before the old
-- enrollment was closed); equal begin dates go to the first school id. The other school's row
-- stays, not counted, for the exceptions mart. With the membership_from_attendance var (for
-- districts that send attendance but no enrollments), a daily attendance record on an
-- instructional day is membership too, after any enrollment.
-- Incremental: only the changed slices (int_attendance_changed_slices) are recomputed.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_slices('student_id', 'calendar_date') }}",
    post_hook="{{ record_consumed_slices() }}",
    **incremental_config('append')
) }}

with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
    where enrollment_role = 'student' and effective_begin_date is not null
    -- its class and user resolve (int_enrollments_unresolved lists the others)
    and is_class_resolved and is_user_resolved
),

school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

as_of_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
    where
        not is_tombstoned
        and is_daily_record
        and {{ 'true' if var('membership_from_attendance') else 'false' }}
),

candidate_students as (
    select
        district_id,
        user_id as student_id,
        coalesce(effective_end_date, {{ end_of_time() }}) as candidate_date
    from enrollments
    union all
    select
        district_id,
        user_id as student_id,
        attendance_date as candidate_date
    from attendance_records
),

slice_starts as (
    {{ changed_slice_starts('candidate_students') }}
),

district_starts as (
    {{ district_slice_starts('slice_starts') }}
),

-- the school days a changed slice can reach, up to the as-of date
days_to_build as (
    select school_days.*
    from school_days
    inner join district_starts
        on
            school_days.district_id = district_starts.district_id
            and school_days.calendar_date >= district_starts.slice_start
    inner join as_of_dates
        on
            school_days.district_id = as_of_dates.district_id
            and school_days.calendar_date <= as_of_dates.as_of_date
),

enrollment_spans as (
    select distinct
        enrollments.district_id,
        enrollments.user_id as student_id,
        enrollments.school_id,
        enrollments.effective_begin_date,
        enrollments.effective_end_date,
        slice_starts.slice_start
    from enrollments
    inner join slice_starts
        on
            enrollments.district_id = slice_starts.district_id
            and enrollments.user_id = slice_starts.student_id
),

from_enrollments as (
    select
        enrollment_spans.district_id,
        enrollment_spans.student_id,
        enrollment_spans.school_id,
        days_to_build.calendar_date,
        days_to_build.instructional_value,
        days_to_build.is_inferred_calendar,
        'enrollment' as membership_source,
        enrollment_spans.effective_begin_date
    from enrollment_spans
    inner join days_to_build
        on
            enrollment_spans.district_id = days_to_build.district_id
            and enrollment_spans.school_id = days_to_build.school_id
            and enrollment_spans.effective_begin_date <= days_to_build.calendar_date
            and (
                enrollment_spans.effective_end_date is null
                or enrollment_spans.effective_end_date > days_to_build.calendar_date
            )
            and enrollment_spans.slice_start <= days_to_build.calendar_date
),

-- only with membership_from_attendance on
from_attendance as (
    select distinct
        attendance_records.district_id,
        attendance_records.user_id as student_id,
        attendance_records.school_id,
        days_to_build.calendar_date,
        days_to_build.instructional_value,
        days_to_build.is_inferred_calendar,
        'attendance' as membership_source,
        cast(null as date) as effective_begin_date
    from attendance_records
    inner join slice_starts
        on
            attendance_records.district_id = slice_starts.district_id
            and attendance_records.user_id = slice_starts.student_id
            and attendance_records.attendance_date >= slice_starts.slice_start
    inner join days_to_build
        on
            attendance_records.district_id = days_to_build.district_id
            and attendance_records.school_id = days_to_build.school_id
            and attendance_records.attendance_date = days_to_build.calendar_date
),

unioned as (
    select * from from_enrollments
    union all
    select * from from_attendance
),

per_school as (
    -- a day backed by an enrollment keeps that source
    select
        district_id,
        student_id,
        school_id,
        calendar_date,
        min(instructional_value) as instructional_value,
        max(case when is_inferred_calendar then 1 else 0 end) = 1 as is_inferred_calendar,
        case
            when max(case when membership_source = 'enrollment' then 1 else 0 end) = 1 then 'enrollment'
            else 'attendance'
        end as membership_source,
        max(effective_begin_date) as latest_begin_date
    from unioned
    group by district_id, student_id, school_id, calendar_date
),

ranked as (
    select
        *,
        row_number() over (
            partition by district_id, student_id, calendar_date
            order by
                case when membership_source = 'enrollment' then 0 else 1 end,
                latest_begin_date desc nulls last,
                school_id asc
        ) as school_rank,
        count(*) over (partition by district_id, student_id, calendar_date) as school_count
    from per_school
),

final as (
    select
        district_id,
        student_id,
        school_id,
        calendar_date,
        instructional_value,
        is_inferred_calendar,
        membership_source,
        latest_begin_date,
        school_rank = 1 as is_counted,
        first_value(school_id) over (
            partition by district_id, student_id, calendar_date order by school_rank
        ) as counted_school_id,
        school_count > 1 as is_overlap,
        {{ this_build_started_at() }} as built_at
    from ranked
)

select * from final
