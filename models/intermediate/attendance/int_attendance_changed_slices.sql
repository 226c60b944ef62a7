-- What the incremental attendance models recompute in this build: one row per district, and one
-- per student whose attendance inputs changed, with the date the change starts from (null for a
-- district row with no district-wide change). A student's slice is every day from that date on.
--   district-wide, from the beginning: a changed school calendar, academic session, absence code
--     or attendance rule (var), a district seen for the first time;
--   district-wide, from the earlier of the old and new as-of date: a moved as-of date (a new
--     school day of attendance);
--   per student, from the beginning: changed enrollment spans;
--   per student, from the record's date: an attendance record added, changed or tombstoned (and
--     the student and date it had before, when a correction moved it).
{%- set whole = beginning_of_time() %}
{#- the earliest change already seen, as a literal: the scan of the records skips older row groups
    (none where the fingerprints are not built, as when sqlfluff compiles on an empty warehouse) -#}
{%- set seen_through = none %}
{%- if execute and load_relation(ref('int_attendance_input_fingerprints')) is not none %}
    {%- set seen_through = run_query(
        "select min(previous_fingerprint) from " ~ ref('int_attendance_input_fingerprints')
        ~ " where fingerprint_name = 'records_changed_through'"
    ).columns[0].values()[0] %}
{%- endif %}

with fingerprints as (
    select * from {{ ref('int_attendance_input_fingerprints') }}
),

attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
),

builds as (
    select
        max(built_at) as built_at,
        max(previous_built_at) as previous_built_at
    from fingerprints
),

changed_fingerprints as (
    select * from fingerprints
    where
        fingerprint is distinct from previous_fingerprint
        or previous_built_at is null
),

district_wide as (
    select
        district_id,
        case
            when fingerprint_name = 'as_of_date' and fingerprint is not null and previous_fingerprint is not null
                then least(cast(fingerprint as date), cast(previous_fingerprint as date))
            else {{ whole }}
        end as changed_from_date
    from changed_fingerprints
    where fingerprint_name in ('school_days', 'academic_sessions', 'absence_codes', 'as_of_date', 'attendance_rules')
),

-- districts rebuilt whole need no student rows
whole_districts as (
    select distinct district_id from district_wide
    where changed_from_date = {{ whole }}
),

records_seen_through as (
    select
        district_id,
        coalesce(cast(max(previous_fingerprint) as {{ dbt.type_timestamp() }}), {{ beginning_of_time_ts() }})
            as previous_changed_through
    from fingerprints
    where fingerprint_name = 'records_changed_through'
    group by district_id
),

changed_records as (
    select attendance_records.*
    from attendance_records
    left join records_seen_through
        on attendance_records.district_id = records_seen_through.district_id
    where
        attendance_records.changed_at > coalesce(records_seen_through.previous_changed_through, {{ beginning_of_time_ts() }})
        {%- if seen_through is not none %}
            and attendance_records.changed_at > cast('{{ seen_through }}' as {{ type_timestamp_tz() }})
        {%- endif %}
        and attendance_records.district_id not in (select whole_districts.district_id from whole_districts)
),

record_slices as (
    select
        district_id,
        user_id as student_id,
        coalesce(attendance_date, {{ whole }}) as changed_from_date
    from changed_records
    union all
    select
        changed_records.district_id,
        previous_slice.student_id,
        coalesce(previous_slice.attendance_date, {{ whole }}) as changed_from_date
    from changed_records
    {{ unnest_previous_slices('changed_records.previous_slices', 'previous_slice') }}
),

enrollment_slices as (
    select
        district_id,
        subject_id as student_id,
        {{ whole }} as changed_from_date
    from changed_fingerprints
    where
        fingerprint_name = 'enrollment_spans'
        and district_id not in (select whole_districts.district_id from whole_districts)
),

student_slices as (
    select * from record_slices
    where student_id is not null
    union all
    select * from enrollment_slices
),

-- a record without a student can only be placed district-wide
district_slices as (
    select * from district_wide
    union all
    select
        district_id,
        changed_from_date
    from record_slices
    where student_id is null
),

districts as (
    select distinct district_id from fingerprints
),

final as (
    select
        districts.district_id,
        cast(null as {{ dbt.type_string() }}) as student_id,
        min(district_slices.changed_from_date) as changed_from_date,
        max(builds.built_at) as built_at,
        max(builds.previous_built_at) as previous_built_at
    from districts
    cross join builds
    left join district_slices
        on districts.district_id = district_slices.district_id
    group by districts.district_id
    union all
    select
        student_slices.district_id,
        student_slices.student_id,
        min(student_slices.changed_from_date) as changed_from_date,
        max(builds.built_at) as built_at,
        max(builds.previous_built_at) as previous_built_at
    from student_slices
    cross join builds
    group by student_slices.district_id, student_slices.student_id
)

select * from final
