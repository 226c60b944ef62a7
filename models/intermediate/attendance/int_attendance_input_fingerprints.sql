-- What the attendance models were last built from: one fingerprint per input of the attendance
-- marts — per district the instructional days of every school, the academic sessions, the
-- absence codes, the as-of date, the attendance rules (dbt vars) and the latest attendance-record
-- change; per student the enrollment spans. Each row keeps the previous build's fingerprint
-- beside the current one, so int_attendance_changed_slices can tell what changed. Rebuilt whole
-- on every run; it reads its own previous version to do so.
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) if execute else none %}
{%- set rules = {
    'period_rollup_rule': var('period_rollup_rule'),
    'membership_from_attendance': var('membership_from_attendance'),
    'tardy_absent_value': var('tardy_absent_value'),
    'attendance_as_of_date': var('attendance_as_of_date'),
    'chronic_absence_threshold': var('chronic_absence_threshold'),
    'chronic_absence_min_days': var('chronic_absence_min_days'),
    'chronic_minimum_days_basis': var('chronic_minimum_days_basis'),
    'attendance_tier_bounds': var('attendance_tier_bounds'),
} %}

with school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned
),

absence_codes as (
    select * from {{ ref('int_absence_codes') }}
    where not is_tombstoned
),

as_of_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
),

enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
    where enrollment_role = 'student'
    -- its class and user resolve (int_enrollments_unresolved lists the others)
    and is_class_resolved and is_user_resolved
),

calendar_fingerprints as (
    select
        district_id,
        'school_days' as fingerprint_name,
        {{ dbt.hash(dbt.listagg(
            dbt.concat(['school_id', "':'", 'cast(calendar_date as ' ~ dbt.type_string() ~ ')', "':'",
                        'cast(instructional_value as ' ~ dbt.type_string() ~ ')', "':'",
                        'cast(is_inferred_calendar as ' ~ dbt.type_string() ~ ')']),
            "'|'", 'order by school_id, calendar_date')) }} as fingerprint
    from school_days
    group by district_id
),

session_fingerprints as (
    select
        district_id,
        'academic_sessions' as fingerprint_name,
        {{ dbt.hash(dbt.listagg(
            dbt.concat(['academic_session_id', "':'", "coalesce(session_type, '')", "':'",
                        "coalesce(cast(start_date as " ~ dbt.type_string() ~ "), '')", "':'",
                        "coalesce(cast(end_date as " ~ dbt.type_string() ~ "), '')", "':'",
                        "coalesce(session_title, '')", "':'",
                        "coalesce(cast(school_year as " ~ dbt.type_string() ~ "), '')"]),
            "'|'", 'order by academic_session_id')) }} as fingerprint
    from sessions
    group by district_id
),

code_fingerprints as (
    select
        district_id,
        'absence_codes' as fingerprint_name,
        {{ dbt.hash(dbt.listagg(
            dbt.concat(["coalesce(absence_code, '')", "':'", "coalesce(org_id, '')", "':'",
                        "coalesce(cast(absent_value as " ~ dbt.type_string() ~ "), '')", "':'",
                        "coalesce(attendance_category, '')"]),
            "'|'", 'order by absence_code, org_id')) }} as fingerprint
    from absence_codes
    group by district_id
),

as_of_fingerprints as (
    select
        district_id,
        'as_of_date' as fingerprint_name,
        cast(as_of_date as {{ dbt.type_string() }}) as fingerprint
    from as_of_dates
),

record_fingerprints as (
    select
        district_id,
        'records_changed_through' as fingerprint_name,
        cast(max(changed_at) as {{ dbt.type_string() }}) as fingerprint
    from attendance_records
    group by district_id
),

district_fingerprints as (
    select * from calendar_fingerprints
    union all
    select * from session_fingerprints
    union all
    select * from code_fingerprints
    union all
    select * from as_of_fingerprints
    union all
    select * from record_fingerprints
),

districts as (
    select distinct district_id from district_fingerprints
),

rule_fingerprints as (
    select
        district_id,
        'attendance_rules' as fingerprint_name,
        '{{ local_md5(rules | dictsort | map('join', '=') | join('|')) }}' as fingerprint
    from districts
),

enrollment_fingerprints as (
    select
        district_id,
        user_id as subject_id,
        'enrollment_spans' as fingerprint_name,
        {{ dbt.hash(dbt.listagg(
            dbt.concat(["coalesce(school_id, '')", "':'",
                        "coalesce(cast(effective_begin_date as " ~ dbt.type_string() ~ "), '')", "':'",
                        "coalesce(cast(effective_end_date as " ~ dbt.type_string() ~ "), '')"]),
            "'|'", 'order by school_id, effective_begin_date, effective_end_date')) }} as fingerprint
    from enrollments
    where user_id is not null
    group by district_id, user_id
),

current_fingerprints as (
    select
        district_id,
        fingerprint_name,
        '' as subject_id,
        fingerprint
    from district_fingerprints
    union all
    select
        district_id,
        fingerprint_name,
        '' as subject_id,
        fingerprint
    from rule_fingerprints
    union all
    select
        district_id,
        fingerprint_name,
        subject_id,
        fingerprint
    from enrollment_fingerprints
),

previous_fingerprints as (
    {%- if previous is not none %}
        select
            district_id,
            fingerprint_name,
            subject_id,
            fingerprint,
            built_at
        from {{ previous }}
        where fingerprint is not null
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as district_id,
            cast(null as {{ dbt.type_string() }}) as fingerprint_name,
            cast(null as {{ dbt.type_string() }}) as subject_id,
            cast(null as {{ dbt.type_string() }}) as fingerprint,
            cast(null as {{ dbt.type_timestamp() }}) as built_at
        where false
    {%- endif %}
),

previous_build as (
    select max(built_at) as built_at from previous_fingerprints
),

final as (
    select
        coalesce(current_fingerprints.district_id, previous_fingerprints.district_id) as district_id,
        coalesce(current_fingerprints.fingerprint_name, previous_fingerprints.fingerprint_name) as fingerprint_name,
        coalesce(current_fingerprints.subject_id, previous_fingerprints.subject_id) as subject_id,
        current_fingerprints.fingerprint,
        previous_fingerprints.fingerprint as previous_fingerprint,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as built_at,
        previous_build.built_at as previous_built_at
    from current_fingerprints
    full outer join previous_fingerprints
        on
            current_fingerprints.district_id = previous_fingerprints.district_id
            and current_fingerprints.fingerprint_name = previous_fingerprints.fingerprint_name
            and current_fingerprints.subject_id = previous_fingerprints.subject_id
    cross join previous_build
)

select * from final
