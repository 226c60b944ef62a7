-- OneRoster+ attendance records from every source: OneRoster+ attendance.csv as staged, and SIS
-- absence rows mapped onto it - a row without periods is a daily absence record; a row listing
-- periods missed (in one field, or as Period N fields) becomes one period record per period.
-- The SIS school is the row's own, else the student's school.
with oneroster_records as (
    select * from {{ ref('stg_oneroster__attendance_records') }}
),

sis_absences as (
    select * from {{ ref('stg_sis__attendance') }}
),

sis_students as (
    select * from {{ ref('stg_sis__students') }}
),

from_oneroster as (
    select
        district_id,
        attendance_record_id,
        user_id,
        school_id,
        class_id,
        period,
        attendance_date,
        absence_code,
        is_daily_record,
        is_tombstoned,
        source_file,
        source_row_number,
        loaded_at,
        'oneroster' as source_system
    from oneroster_records
),

sis_rows as (
    select
        sis_absences.*,
        coalesce(sis_absences.school_id, sis_students.school_id) as resolved_school_id
    from sis_absences
    left join sis_students
        on
            sis_absences.district_id = sis_students.district_id
            and sis_absences.student_id = sis_students.student_id
),

sis_listed_periods as (
    select
        absence_record_id,
        unnest({{ split_list('periods_missed') }}) as period
    from sis_rows
    where periods_missed is not null
),

sis_flag_items as (
    select
        absence_record_id,
        {{ unnest_json_list('period_flags_json') }} as item
    from sis_rows
    where period_flags_json is not null
),

sis_flagged_periods as (
    select
        absence_record_id,
        {{ json_text('item', 'number') }} as period
    from sis_flag_items
    where upper(coalesce({{ json_text('item', 'value') }}, '')) not in ('', '0', 'N', 'NO', 'P', 'FALSE')
),

sis_periods as (
    select * from sis_listed_periods
    union all
    select * from sis_flagged_periods
),

from_sis as (
    select
        sis_rows.district_id,
        sis_rows.absence_record_id || coalesce(':' || sis_periods.period, '') as attendance_record_id,
        sis_rows.student_id as user_id,
        sis_rows.resolved_school_id as school_id,
        cast(null as {{ dbt.type_string() }}) as class_id,
        sis_periods.period,
        sis_rows.absence_date as attendance_date,
        sis_rows.absence_reason_code as absence_code,
        sis_periods.period is null as is_daily_record,
        false as is_tombstoned,
        sis_rows.source_file,
        sis_rows.source_row_number,
        sis_rows.loaded_at,
        'sis' as source_system
    from sis_rows
    left join sis_periods
        on sis_rows.absence_record_id = sis_periods.absence_record_id
),

final as (
    select * from from_oneroster
    union all
    select * from from_sis
)

select * from final
