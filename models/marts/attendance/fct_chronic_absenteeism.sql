-- Chronic absenteeism under every named rule set side by side (seeds/chronic_absence_rule_sets.csv):
-- one row per rule set, student, academic session and — for school-scope rule sets — school.
-- District-scope rule sets follow the student across schools (school_id is null). Each row
-- says which rule set produced it; thresholds are inclusive and compared in exact absent units.
-- Keys are hashed once per student total, before the totals fan out to the rule sets.
{%- set counted_units -%}
    case rule_sets.suspension_counting
        when 'all_absent' then totals.absent_day_units_suspension_as_absent
        when 'excluded' then totals.absent_day_units_suspension_excluded
        else totals.absent_day_units
    end
{%- endset %}

with session_totals as (
    select * from {{ ref('int_attendance_sessions_summed') }}
),

sessions as (
    select * from {{ ref('dim_academic_sessions') }}
),

rule_sets as (
    select * from {{ ref('chronic_absence_rule_sets') }}
),

-- across the student's schools, for the district-scope rule sets (summed once, not per rule set)
district_totals as (
    select
        district_id,
        {{ skey('k_student') }} as k_student,
        student_id,
        cast(null as {{ dbt.type_string() }}) as school_id,
        academic_session_id,
        cast(sum(membership_days) as decimal(18, 2)) as membership_days,
        cast(sum(membership_day_count) as bigint) as membership_day_count,
        cast(sum(absent_day_units) as bigint) as absent_day_units,
        cast(sum(absent_day_units_suspension_as_absent) as bigint) as absent_day_units_suspension_as_absent,
        cast(sum(absent_day_units_suspension_excluded) as bigint) as absent_day_units_suspension_excluded
    from session_totals
    group by district_id, student_id, academic_session_id
),

-- a session total is already one student at one school
school_totals as (
    select
        district_id,
        {{ skey('k_student') }} as k_student,
        student_id,
        school_id,
        academic_session_id,
        membership_days,
        membership_day_count,
        absent_day_units,
        absent_day_units_suspension_as_absent,
        absent_day_units_suspension_excluded
    from session_totals
),

per_student as (
    {%- for scope, totals in [('school', 'school_totals'), ('district', 'district_totals')] %}
        select
            rule_sets.rule_set_id,
            rule_sets.scope,
            rule_sets.threshold,
            rule_sets.min_membership_days,
            totals.district_id,
            totals.k_student,
            totals.student_id,
            totals.school_id,
            totals.academic_session_id,
            totals.membership_days,
            totals.membership_day_count,
            {{ counted_units }} as absent_day_units
        from {{ totals }} as totals
        inner join rule_sets
            on rule_sets.scope = '{{ scope }}'
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        per_student.k_student,
        sessions.k_academic_session,
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
