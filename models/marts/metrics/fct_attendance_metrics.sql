-- The attendance metrics at the grains the dashboard and `rollcall summary` read, generated from
-- their one definition in the semantic layer (_metrics__semantic.yml, macro metric_rows).
-- depends_on: {{ ref('fct_student_absence_rates') }}
-- depends_on: {{ ref('fct_chronic_absenteeism') }}
-- depends_on: {{ ref('fct_student_daily_attendance') }}
{%- set absence = ['enrolled_students', 'membership_days', 'absent_days', 'absence_rate'] %}
{%- set chronic = [
    'chronically_absent_students',
    'eligible_students',
    'chronic_absence_rate',
    'students_satisfactory',
    'students_at_risk',
    'students_moderate',
    'students_severe',
] %}
{%- set daily = ['daily_membership_days', 'daily_absent_days', 'daily_absence_rate'] %}

with school_sessions as (
    {{ metric_rows('school_session', absence, ['district_id', 'school_id', 'academic_session_id']) }}
),

district_sessions as (
    {{ metric_rows('district_session', absence, ['district_id', 'academic_session_id']) }}
),

school_rule_sets as (
    {{ metric_rows('school_rule_set', chronic, ['district_id', 'school_id', 'academic_session_id', 'rule_set_id']) }}
),

district_rule_sets as (
    {{ metric_rows('district_rule_set', chronic, ['district_id', 'academic_session_id', 'rule_set_id']) }}
),

school_weeks as (
    {{ metric_rows('school_week', daily, ['district_id', 'school_id'], week_of='attendance_date') }}
),

district_weeks as (
    {{ metric_rows('district_week', daily, ['district_id'], week_of='attendance_date') }}
),

final as (
    select * from school_sessions
    union all
    select * from district_sessions
    union all
    select * from school_rule_sets
    union all
    select * from district_rule_sets
    union all
    select * from school_weeks
    union all
    select * from district_weeks
)

select * from final
