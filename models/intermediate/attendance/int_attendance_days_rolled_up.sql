-- One attendance value per student, school and date. A daily record decides the day; without
-- one, the day's period records are rolled up by the period_rollup_rule var. Codes resolve to a
-- school's own absence code first, then to the district-wide code. Duplicate records for the
-- same day (or class period) are resolved latest-wins.
with attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
    where
        not is_tombstoned
        and attendance_date is not null
),

absence_codes as (
    select * from {{ ref('stg_oneroster__absence_codes') }}
    where not is_tombstoned
),

coded as (
    select
        attendance_records.district_id,
        attendance_records.user_id as student_id,
        attendance_records.school_id,
        attendance_records.class_id,
        attendance_records.period,
        attendance_records.attendance_date,
        attendance_records.is_daily_record,
        attendance_records.absence_code,
        attendance_records.loaded_at,
        attendance_records.source_row_number,
        coalesce(school_codes.absent_value, district_codes.absent_value) as absent_value,
        coalesce(school_codes.attendance_category, district_codes.attendance_category) as attendance_category
    from attendance_records
    left join absence_codes as school_codes
        on
            attendance_records.district_id = school_codes.district_id
            and attendance_records.absence_code = school_codes.absence_code
            and attendance_records.school_id = school_codes.org_id
    left join absence_codes as district_codes
        on
            attendance_records.district_id = district_codes.district_id
            and attendance_records.absence_code = district_codes.absence_code
            and district_codes.org_id is null
),

ranked as (
    select
        *,
        row_number() over (
            partition by district_id, student_id, school_id, attendance_date, is_daily_record, class_id, period
            order by loaded_at desc, source_row_number desc
        ) as version_rank
    from coded
),

daily as (
    select * from ranked
    where is_daily_record and version_rank = 1
),

periods as (
    select
        district_id,
        student_id,
        school_id,
        attendance_date,
        count(*) as period_count,
        avg(coalesce(absent_value, 0)) as period_absent_share,
        sum(case when attendance_category = 'tardy' then 1 else 0 end) as tardy_period_count,
        sum(case when absent_value > 0 and attendance_category <> 'excused' then 1 else 0 end)
            as not_excused_absent_period_count
    from ranked
    where not is_daily_record and version_rank = 1
    group by district_id, student_id, school_id, attendance_date
),

rolled_up as (
    select
        district_id,
        student_id,
        school_id,
        attendance_date,
        period_count,
        tardy_period_count,
        {{ period_rollup_absent_value('period_absent_share') }} as absent_value,
        not_excused_absent_period_count
    from periods
),

final as (
    select
        coalesce(daily.district_id, rolled_up.district_id) as district_id,
        coalesce(daily.student_id, rolled_up.student_id) as student_id,
        coalesce(daily.school_id, rolled_up.school_id) as school_id,
        coalesce(daily.attendance_date, rolled_up.attendance_date) as attendance_date,
        case when daily.student_id is not null then 'daily' else 'period_rollup' end as attendance_source,
        daily.absence_code,
        case
            when daily.student_id is not null then daily.attendance_category
            when rolled_up.absent_value > 0 and rolled_up.not_excused_absent_period_count > 0 then 'unexcused'
            when rolled_up.absent_value > 0 then 'excused'
            when rolled_up.tardy_period_count > 0 then 'tardy'
            else 'present'
        end as attendance_category,
        case
            when daily.student_id is not null then daily.absent_value
            else rolled_up.absent_value
        end as absent_value,
        daily.student_id is not null and daily.absent_value is null as is_unknown_code,
        rolled_up.period_count
    from daily
    full outer join rolled_up
        on
            daily.district_id = rolled_up.district_id
            and daily.student_id = rolled_up.student_id
            and daily.school_id = rolled_up.school_id
            and daily.attendance_date = rolled_up.attendance_date
)

select * from final
