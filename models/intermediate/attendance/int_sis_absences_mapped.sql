-- SIS absence rows mapped onto OneRoster+ attendance records: a row without periods is a daily
-- absence record; a row listing periods missed (in one field, or as Period N fields) becomes one
-- period record per period. The school is the row's own, else the student's school. An export lists
-- only the periods missed, so a period record carries the periods the student is scheduled for at
-- that school (their distinct periods in enrollments.csv among those the school's absence rows
-- list, so a homeroom does not count): the day rolls up over those. Every row
-- of a district carries the time of the district's latest SIS absences, students or enrollments
-- load (changed_at), so a new students or enrollments file re-maps its absences for the
-- incremental models.
with sis_absences as (
    select * from {{ ref('stg_sis__attendance') }}
),

sis_students as (
    select * from {{ ref('stg_sis__students') }}
),

sis_enrollments as (
    select * from {{ ref('stg_sis__enrollments') }}
),


district_changes as (
    select
        district_id,
        max(loaded_at) as changed_at
    from (
        select
            district_id,
            loaded_at
        from sis_absences
        union all
        select
            district_id,
            loaded_at
        from sis_students
        union all
        select
            district_id,
            loaded_at
        from sis_enrollments
    ) as sis_inputs
    group by district_id
),

sis_rows as (
    select
        sis_absences.*,
        coalesce(sis_absences.school_id, sis_students.school_id) as resolved_school_id,
        district_changes.changed_at as district_changed_at
    from sis_absences
    inner join district_changes
        on sis_absences.district_id = district_changes.district_id
    left join sis_students
        on
            sis_absences.district_id = sis_students.district_id
            and sis_absences.student_id = sis_students.student_id
),

listed_periods as (
    select
        absence_record_id,
        {{ unnest_list(split_list('periods_missed')) }} as period
    from sis_rows
    where periods_missed is not null
),

flag_items as (
    select
        absence_record_id,
        {{ unnest_json_list('period_flags_json') }} as item
    from sis_rows
    where period_flags_json is not null
),

flagged_periods as (
    select
        absence_record_id,
        {{ json_text('item', 'number') }} as period
    from flag_items
    where upper(coalesce({{ json_text('item', 'value') }}, '')) not in ('', '0', 'N', 'NO', 'P', 'FALSE')
),

periods as (
    select * from listed_periods
    union all
    select * from flagged_periods
),

-- the periods a school takes attendance in: those its absence rows list (a homeroom is scheduled
-- but never missed by period)
attendance_periods as (
    select distinct
        sis_rows.district_id,
        sis_rows.resolved_school_id as school_id,
        periods.period
    from sis_rows
    inner join periods
        on sis_rows.absence_record_id = periods.absence_record_id
),

scheduled_periods as (
    select
        sis_enrollments.district_id,
        sis_enrollments.student_id,
        sis_enrollments.school_id,
        count(distinct sis_enrollments.period) as scheduled_period_count
    from sis_enrollments
    inner join attendance_periods
        on
            sis_enrollments.district_id = attendance_periods.district_id
            and sis_enrollments.school_id = attendance_periods.school_id
            and sis_enrollments.period = attendance_periods.period
    group by sis_enrollments.district_id, sis_enrollments.student_id, sis_enrollments.school_id
),

final as (
    select
        sis_rows.district_id,
        sis_rows.absence_record_id || coalesce(':' || periods.period, '') as attendance_record_id,
        sis_rows.student_id as user_id,
        sis_rows.resolved_school_id as school_id,
        cast(null as {{ dbt.type_string() }}) as class_id,
        periods.period,
        sis_rows.absence_date as attendance_date,
        sis_rows.absence_reason_code as absence_code,
        periods.period is null as is_daily_record,
        case when periods.period is not null then scheduled_periods.scheduled_period_count end
            as scheduled_period_count,
        false as is_tombstoned,
        sis_rows.source_file,
        sis_rows.source_row_number,
        sis_rows.loaded_at,
        'sis' as source_system,
        sis_rows.district_changed_at as changed_at,
        cast(null as {{ previous_slices_type() }}) as previous_slices,
        {{ this_build_started_at() }} as built_at
    from sis_rows
    left join periods
        on sis_rows.absence_record_id = periods.absence_record_id
    left join scheduled_periods
        on
            sis_rows.district_id = scheduled_periods.district_id
            and sis_rows.student_id = scheduled_periods.student_id
            and sis_rows.resolved_school_id = scheduled_periods.school_id
)

select * from final
