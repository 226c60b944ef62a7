-- What: exactly one school counts each membership day of a student.
-- When it matters: overlapping enrollments at two schools (a transfer entered without closing
--   the old enrollment) must not let both schools count the day; membership gives the day to
--   the enrollment that began last and lists the overlap in quality.fct_membership_overlaps.
-- How to fix: a failure here is a defect in rollcall's membership rule, not in the data.
-- A planned build checks the days it wrote (a student's slice is written whole, every school).
with membership_days as (
    select * from {{ ref('int_membership_days_expanded') }}
    where {{ rows_of_this_build() }}
),

final as (
    select
        district_id,
        student_id,
        calendar_date,
        sum(case when is_counted then 1 else 0 end) as counting_schools
    from membership_days
    group by district_id, student_id, calendar_date
    having sum(case when is_counted then 1 else 0 end) <> 1
)

select * from final
