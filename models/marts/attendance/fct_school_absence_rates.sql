-- One row per school and academic session: students, membership and absent days, the school's
-- absence rate, and how many students were chronically absent there.
with student_rates as (
    select * from {{ ref('fct_student_absence_rates') }}
),

final as (
    select
        {{ gen_skey(['district_id', 'school_id']) }} as k_school,
        {{ gen_skey(['district_id', 'academic_session_id']) }} as k_academic_session,
        district_id,
        school_id,
        academic_session_id,
        session_type,
        session_title,
        school_year,
        is_current_session,
        count(*) as student_count,
        sum(case when meets_minimum_days then 1 else 0 end) as eligible_student_count,
        sum(case when is_chronically_absent then 1 else 0 end) as chronically_absent_count,
        sum(membership_days) as membership_days,
        sum(absent_days) as absent_days,
        {{ absence_rate('sum(absent_days)', 'sum(membership_days)') }} as absence_rate,
        {{ absence_rate('sum(case when is_chronically_absent then 1 else 0 end)',
                        'sum(case when meets_minimum_days then 1 else 0 end)') }} as chronic_absence_rate
    from student_rates
    group by
        district_id,
        school_id,
        academic_session_id,
        session_type,
        session_title,
        school_year,
        is_current_session
)

select * from final
