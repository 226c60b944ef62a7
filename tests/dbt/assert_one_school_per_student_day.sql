-- What: a student is a member of at most one school on any instructional day.
-- When it matters: overlapping enrollments at two schools (a transfer entered without closing
--   the old enrollment) make both schools count the day, inflating membership and absences.
-- How to fix: end the old enrollment (endDate, exclusive) on the day the new one begins.
{{ config(severity = 'warn') }}

with membership_days as (
    select * from {{ ref('int_membership_days_expanded') }}
),

final as (
    select
        district_id,
        student_id,
        calendar_date,
        count(*) as school_count
    from membership_days
    group by district_id, student_id, calendar_date
    having count(*) > 1
)

select * from final
