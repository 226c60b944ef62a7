-- OneRoster+ attendance records from every source: OneRoster+ attendance.csv as staged, and SIS
-- absence rows mapped onto it (int_sis_absences_mapped). A view: both parts are stored tables,
-- and a copy of every attendance record would double the largest write of a build.
{{ config(materialized='view') }}

with oneroster_records as (
    select * from {{ ref('stg_oneroster__attendance_records') }}
),

sis_records as (
    select * from {{ ref('int_sis_absences_mapped') }}
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
        -- attendance.csv sends every period of the day
        cast(null as bigint) as scheduled_period_count,
        is_tombstoned,
        source_file,
        source_row_number,
        loaded_at,
        'oneroster' as source_system,
        changed_at,
        previous_slices,
        built_at
    from oneroster_records
),

from_sis as (
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
        scheduled_period_count,
        is_tombstoned,
        source_file,
        source_row_number,
        loaded_at,
        source_system,
        changed_at,
        previous_slices,
        built_at
    from sis_records
),

final as (
    select * from from_oneroster
    union all
    select * from from_sis
)

select * from final
