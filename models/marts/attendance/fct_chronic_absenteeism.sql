-- Chronic absenteeism under every named rule set side by side (seeds/chronic_absence_rule_sets.csv):
-- one row per rule set, student, academic session and — for school-scope rule sets — school.
-- District-scope rule sets follow the student across schools (school_id is null). Each row
-- says which rule set produced it; thresholds are inclusive and compared in exact absent units.
{%- set student_keys = [
    'rule_set_id',
    'scope',
    'threshold',
    'min_membership_days',
    'district_id',
    'student_id',
    'school_id',
    'academic_session_id',
] %}

with session_totals as (
    select * from {{ ref('int_attendance_sessions_summed') }}
),

sessions as (
    select * from {{ ref('dim_academic_sessions') }}
),

rule_sets as (
    select * from {{ ref('chronic_absence_rule_sets') }}
),

counted as (
    select
        rule_sets.rule_set_id,
        rule_sets.scope,
        rule_sets.threshold,
        rule_sets.min_membership_days,
        session_totals.district_id,
        session_totals.student_id,
        case when rule_sets.scope = 'school' then session_totals.school_id end as school_id,
        session_totals.academic_session_id,
        session_totals.membership_days,
        session_totals.membership_day_count,
        case rule_sets.suspension_counting
            when 'all_absent' then session_totals.absent_day_units_suspension_as_absent
            when 'excluded' then session_totals.absent_day_units_suspension_excluded
            else session_totals.absent_day_units
        end as counted_absent_units
    from session_totals
    cross join rule_sets
),

per_student as (
    select
        {{ student_keys | join(',\n        ') }},
        sum(membership_days) as membership_days,
        sum(membership_day_count) as membership_day_count,
        sum(counted_absent_units) as absent_day_units
    from counted
    group by {{ student_keys | join(', ') }}
),

final as (
    select
        {{ gen_skey(['per_student.district_id', 'per_student.student_id']) }} as k_student,
        {{ gen_skey(['per_student.district_id', 'per_student.academic_session_id']) }} as k_academic_session,
        per_student.rule_set_id,
        per_student.scope as rule_set_scope,
        per_student.district_id,
        per_student.student_id,
        per_student.school_id,
        per_student.academic_session_id,
        sessions.session_type,
        sessions.school_year,
        sessions.is_current as is_current_session,
        per_student.membership_days,
        per_student.membership_day_count,
        {{ absent_days_from_units('per_student.absent_day_units') }} as absent_days,
        per_student.absent_day_units,
        {{ absence_rate('per_student.absent_day_units', 'per_student.membership_days') }} as absence_rate,
        {{ minimum_days_basis('per_student.membership_days', 'per_student.membership_day_count') }}
        >= per_student.min_membership_days as meets_minimum_days,
        {{ is_chronically_absent(
            'per_student.absent_day_units',
            'per_student.membership_days',
            minimum_days_basis('per_student.membership_days', 'per_student.membership_day_count'),
            threshold='per_student.threshold',
            min_days='per_student.min_membership_days'
        ) }} as is_chronically_absent,
        {{ attendance_risk_tier('per_student.absent_day_units', 'per_student.membership_days') }} as risk_tier
    from per_student
    inner join sessions
        on
            per_student.district_id = sessions.district_id
            and per_student.academic_session_id = sessions.academic_session_id
)

select * from final
