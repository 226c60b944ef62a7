-- Overlapping enrollments at two schools: one row per student, school that lost the days, and
-- the school that counted them (the enrollment that began last wins; see
-- int_membership_days_expanded), with the span and number of days lost. Usually a transfer
-- entered without closing the old enrollment: end it (endDate, exclusive) on the first day at
-- the new school.
with membership_days as (
    select * from {{ ref('int_membership_days_expanded') }}
    where not is_counted
),

final as (
    select
        {{ skey('k_student') }} as k_student,
        district_id,
        student_id,
        school_id,
        counted_school_id,
        min(calendar_date) as first_overlap_date,
        max(calendar_date) as last_overlap_date,
        count(*) as overlap_day_count,
        cast(sum(instructional_value) as decimal(18, 2)) as overlap_membership_days
    from membership_days
    group by district_id, student_id, school_id, counted_school_id
)

select * from final
