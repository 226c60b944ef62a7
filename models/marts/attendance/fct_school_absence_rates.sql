-- One row per school and academic session: students, membership and absent days, the school's
-- absence rate, and how many students were chronically absent there.
with student_rates as (
    select * from {{ ref('fct_student_absence_rates') }}
),

per_school as (
    select
        district_id,
        school_id,
        academic_session_id,
        session_type,
        session_title,
        school_year,
        is_current_session,
        count(*) as student_count,
        cast(sum(case when meets_minimum_days then 1 else 0 end) as bigint) as eligible_student_count,
        cast(sum(case when is_chronically_absent then 1 else 0 end) as bigint) as chronically_absent_count,
        cast(sum(membership_days) as decimal(18, 2)) as membership_days,
        cast(sum(absent_day_units) as bigint) as absent_day_units
    from student_rates
    group by
        district_id,
        school_id,
        academic_session_id,
        session_type,
        session_title,
        school_year,
        is_current_session
),

final as (
    select
        {{ skey('k_school') }} as k_school,
        {{ skey('k_academic_session') }} as k_academic_session,
        district_id,
        school_id,
        academic_session_id,
        session_type,
        session_title,
        school_year,
        is_current_session,
        student_count,
        eligible_student_count,
        chronically_absent_count,
        membership_days,
        {{ absent_days_from_units('absent_day_units') }} as absent_days,
        {{ absence_rate('absent_day_units', 'membership_days') }} as absence_rate,
        {{ count_share('chronically_absent_count', 'eligible_student_count') }} as chronic_absence_rate
    from per_school
)

select * from final
