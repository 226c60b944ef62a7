-- Membership: one row per student, school and instructional day on which the student was
-- enrolled there (any student enrollment at the school with begin <= day < end), up to the
-- district's as-of date. Overlapping or duplicated enrollments never count a day twice.
-- Transfer day: an enrollment ending on day D (exclusive) and one beginning on D put D at the
-- new school only. With the membership_from_attendance var (for districts that send attendance
-- but no enrollments), a daily attendance record on an instructional day is membership too.
with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
    where enrollment_role = 'student' and effective_begin_date is not null
),

school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

as_of_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

enrollment_spans as (
    select distinct
        district_id,
        user_id as student_id,
        school_id,
        effective_begin_date,
        effective_end_date
    from enrollments
),

from_enrollments as (
    select distinct
        enrollment_spans.district_id,
        enrollment_spans.student_id,
        enrollment_spans.school_id,
        school_days.calendar_date,
        school_days.instructional_value,
        school_days.is_inferred_calendar,
        'enrollment' as membership_source
    from enrollment_spans
    inner join school_days
        on
            enrollment_spans.district_id = school_days.district_id
            and enrollment_spans.school_id = school_days.school_id
            and enrollment_spans.effective_begin_date <= school_days.calendar_date
            and (
                enrollment_spans.effective_end_date is null
                or enrollment_spans.effective_end_date > school_days.calendar_date
            )
    inner join as_of_dates
        on
            enrollment_spans.district_id = as_of_dates.district_id
            and school_days.calendar_date <= as_of_dates.as_of_date
),

attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
    where not is_tombstoned and is_daily_record
),

-- only with membership_from_attendance on
from_attendance as (
    select distinct
        attendance_records.district_id,
        attendance_records.user_id as student_id,
        attendance_records.school_id,
        school_days.calendar_date,
        school_days.instructional_value,
        school_days.is_inferred_calendar,
        'attendance' as membership_source
    from attendance_records
    inner join school_days
        on
            attendance_records.district_id = school_days.district_id
            and attendance_records.school_id = school_days.school_id
            and attendance_records.attendance_date = school_days.calendar_date
    inner join as_of_dates
        on
            attendance_records.district_id = as_of_dates.district_id
            and attendance_records.attendance_date <= as_of_dates.as_of_date
    where {{ 'true' if var('membership_from_attendance') else 'false' }}
),

unioned as (
    select * from from_enrollments
    union all
    select * from from_attendance
),

final as (
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
        end as membership_source
    from unioned
    group by district_id, student_id, school_id, calendar_date
)

select * from final
