-- Membership: one row per student, school and instructional day on which the student was
-- enrolled there (any student enrollment at the school with begin <= day < end), up to the
-- district's as-of date. Overlapping or duplicated enrollments never count a day twice.
-- Transfer day: an enrollment ending on day D (exclusive) and one beginning on D put D at the
-- new school only.
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

final as (
    select distinct
        enrollment_spans.district_id,
        enrollment_spans.student_id,
        enrollment_spans.school_id,
        school_days.calendar_date,
        school_days.instructional_value,
        school_days.is_inferred_calendar
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
)

select * from final
