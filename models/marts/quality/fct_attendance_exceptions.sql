-- Attendance records that are not counted, one row each with the reason (first that applies):
--   invalid_date           the date could not be read
--   future_date            dated after the day it was loaded
--   duplicate              a newer record exists for the same student, school, date (and class period)
--   unknown_code           the code is not in absenceCodes.csv (the day counts present)
--   non_instructional_day  not an instructional day of the school's calendar
--   no_enrollment          the student has no student enrollment at the school
--   outside_membership     enrolled at the school, but not on that date
with attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
    where not is_tombstoned
),

absence_codes as (
    select * from {{ ref('stg_oneroster__absence_codes') }}
    where not is_tombstoned
),

school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

membership_days as (
    select * from {{ ref('int_membership_days_expanded') }}
),

enrollments as (
    select distinct
        district_id,
        user_id as student_id,
        school_id
    from {{ ref('int_enrollments_dated') }}
    where enrollment_role = 'student'
),

ranked as (
    select
        *,
        row_number() over (
            partition by district_id, user_id, school_id, attendance_date, is_daily_record, class_id, period
            order by loaded_at desc, source_row_number desc
        ) as version_rank
    from attendance_records
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
            when ranked.version_rank > 1 then 'duplicate'
            when known_codes.absence_code is null then 'unknown_code'
            when school_days.calendar_date is null then 'non_instructional_day'
            when membership_days.calendar_date is null and enrollments.student_id is null then 'no_enrollment'
            when membership_days.calendar_date is null then 'outside_membership'
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
    left join enrollments
        on
            ranked.district_id = enrollments.district_id
            and ranked.user_id = enrollments.student_id
            and ranked.school_id = enrollments.school_id
    left join membership_days
        on
            ranked.district_id = membership_days.district_id
            and ranked.user_id = membership_days.student_id
            and ranked.school_id = membership_days.school_id
            and ranked.attendance_date = membership_days.calendar_date
),

final as (
    select * from classified
    where exception_reason is not null
)

select * from final
