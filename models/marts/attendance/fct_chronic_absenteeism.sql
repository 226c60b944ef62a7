-- Chronic absenteeism under every named rule set side by side (seeds/chronic_absence_rule_sets.csv):
-- one row per rule set, student, academic session and — for school-scope rule sets — school.
-- District-scope rule sets follow the student across schools (school_id is null). Each row
-- says which rule set produced it; thresholds are inclusive and compared in exact decimals.
{%- set student_keys = [
    'rule_set_id',
    'scope',
    'threshold',
    'min_membership_days',
    'district_id',
    'student_id',
    'school_id',
    'academic_session_id',
    'session_type',
    'school_year',
    'is_current',
] %}

with daily_attendance as (
    select * from {{ ref('fct_student_daily_attendance') }}
),

sessions as (
    select * from {{ ref('dim_academic_sessions') }}
),

rule_sets as (
    select * from {{ ref('chronic_absence_rule_sets') }}
),

days_in_sessions as (
    select
        daily_attendance.district_id,
        daily_attendance.student_id,
        daily_attendance.school_id,
        daily_attendance.membership_value,
        daily_attendance.absent_day_value,
        daily_attendance.attendance_category,
        sessions.academic_session_id,
        sessions.session_type,
        sessions.school_year,
        sessions.is_current
    from daily_attendance
    inner join sessions
        on
            daily_attendance.district_id = sessions.district_id
            and daily_attendance.attendance_date >= sessions.start_date
            and daily_attendance.attendance_date < sessions.end_date
),

counted as (
    select
        rule_sets.rule_set_id,
        rule_sets.scope,
        rule_sets.threshold,
        rule_sets.min_membership_days,
        days_in_sessions.district_id,
        days_in_sessions.student_id,
        case when rule_sets.scope = 'school' then days_in_sessions.school_id end as school_id,
        days_in_sessions.academic_session_id,
        days_in_sessions.session_type,
        days_in_sessions.school_year,
        days_in_sessions.is_current,
        days_in_sessions.membership_value,
        case
            when days_in_sessions.attendance_category <> 'suspension' then days_in_sessions.absent_day_value
            when rule_sets.suspension_counting = 'all_absent' then days_in_sessions.membership_value
            when rule_sets.suspension_counting = 'excluded' then 0
            else days_in_sessions.absent_day_value
        end as counted_absent_value
    from days_in_sessions
    cross join rule_sets
),

per_student as (
    select
        {{ student_keys | join(',\n        ') }},
        sum(membership_value) as membership_days,
        sum(counted_absent_value) as absent_days
    from counted
    group by {{ student_keys | join(', ') }}
),

final as (
    select
        {{ gen_skey(['district_id', 'student_id']) }} as k_student,
        {{ gen_skey(['district_id', 'academic_session_id']) }} as k_academic_session,
        rule_set_id,
        scope as rule_set_scope,
        district_id,
        student_id,
        school_id,
        academic_session_id,
        session_type,
        school_year,
        is_current as is_current_session,
        membership_days,
        absent_days,
        {{ absence_rate('absent_days', 'membership_days') }} as absence_rate,
        membership_days >= min_membership_days as meets_minimum_days,
        (membership_days >= min_membership_days and absent_days >= threshold * membership_days)
            as is_chronically_absent,
        {{ attendance_risk_tier('absent_days', 'membership_days') }} as risk_tier
    from per_student
)

select * from final
