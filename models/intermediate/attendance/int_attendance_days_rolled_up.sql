-- One attendance value per student, school and date. A daily record decides the day; without one,
-- the day's period records roll up by the period_rollup_rule var, over the periods the student is
-- scheduled for when the source lists only missed periods (SIS), else over the period records.
-- Codes resolve to a school's own absence code first, then to the district-wide code. Duplicate
-- records for the same day (or class period) are resolved latest-wins. The day's absent share is
-- kept in exact absent units three ways, one per suspension_counting of the chronic rule sets: as
-- coded, every suspension period absent, and suspension periods not absent. A rolled-up day takes
-- the category of what made it absent (suspension, then unexcused, excused, earlyDeparture); a day
-- the periods leave present is a suspension day when its suspension periods would make it absent,
-- else earlyDeparture or tardy when a period was.
-- Incremental: only the changed slices (int_attendance_changed_slices) are recomputed.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_slices('student_id', 'attendance_date') }}",
    post_hook="{{ record_consumed_slices() }}",
    **incremental_config('append')
) }}

-- read more than once (candidates, schools, records to build): inlined, so each read keeps only the days it needs,
-- and only days a changed slice can reach (on or after the build's earliest slice start)
with attendance_records as {{ inline_cte() }} (
    select * from {{ ref('int_attendance_records_unioned') }}
    where
        not is_tombstoned
        and attendance_date >= {{ slice_floor() }}
),

absence_codes as (
    select * from {{ ref('int_absence_codes') }}
    where not is_tombstoned
),

candidate_students as (
    select
        district_id,
        user_id as student_id,
        attendance_date as candidate_date
    from attendance_records
),

slice_starts as (
    {{ changed_slice_starts('candidate_students') }}
),

-- read three times (duplicate check, its anti-join): inlined, never held in memory whole
records_to_build as {{ inline_cte() }} (
    select
        attendance_records.district_id,
        attendance_records.attendance_record_id,
        attendance_records.source_system,
        attendance_records.user_id,
        attendance_records.school_id,
        attendance_records.class_id,
        attendance_records.period,
        attendance_records.attendance_date,
        attendance_records.is_daily_record,
        attendance_records.scheduled_period_count,
        attendance_records.absence_code,
        attendance_records.loaded_at,
        attendance_records.source_row_number
    from attendance_records
    inner join slice_starts
        on
            attendance_records.district_id = slice_starts.district_id
            and attendance_records.user_id = slice_starts.student_id
            and attendance_records.attendance_date >= slice_starts.slice_start
),

-- the schools of every record read (a superset of those rebuilt: only looked up)
schools as (
    select distinct
        district_id,
        school_id
    from attendance_records
),

-- every code usable at a school (district-wide codes and the school's own), with the school's
-- own value and category first
code_scopes as (
    select distinct
        schools.district_id,
        schools.school_id,
        absence_codes.absence_code
    from schools
    inner join absence_codes
        on
            schools.district_id = absence_codes.district_id
            and (absence_codes.org_id is null or schools.school_id = absence_codes.org_id)
),

school_codes as (
    select
        code_scopes.district_id,
        code_scopes.school_id,
        code_scopes.absence_code,
        coalesce(own_codes.absent_value, district_codes.absent_value) as absent_value,
        coalesce(own_codes.attendance_category, district_codes.attendance_category) as attendance_category
    from code_scopes
    left join absence_codes as own_codes
        on
            code_scopes.district_id = own_codes.district_id
            and code_scopes.school_id = own_codes.org_id
            and code_scopes.absence_code = own_codes.absence_code
    left join absence_codes as district_codes
        on
            code_scopes.district_id = district_codes.district_id
            and district_codes.org_id is null
            and code_scopes.absence_code = district_codes.absence_code
),

superseded as (
    {{ superseded_attendance_records('records_to_build') }}
),

current_records as (
    select records_to_build.*
    from records_to_build
    left join superseded
        on
            records_to_build.district_id = superseded.district_id
            and records_to_build.attendance_record_id = superseded.attendance_record_id
            and records_to_build.source_system = superseded.source_system
    where superseded.attendance_record_id is null
),

-- each record's absent units three ways (an unknown code counts present)
valued as (
    select
        current_records.district_id,
        current_records.user_id as student_id,
        current_records.school_id,
        current_records.attendance_date,
        current_records.is_daily_record,
        current_records.scheduled_period_count,
        current_records.absence_code,
        coded.absent_value,
        coded.attendance_category,
        {{ absent_units(coded_absent_value('coalesce(coded.absent_value, 0)', 'coded.attendance_category')) }} as units_as_coded,
        case
            when coded.attendance_category = 'suspension' then cast({{ absent_units_per_day() }} as bigint)
            else {{ absent_units(coded_absent_value('coalesce(coded.absent_value, 0)', 'coded.attendance_category')) }}
        end as units_suspension_as_absent,
        case
            when coded.attendance_category = 'suspension' then cast(0 as bigint)
            else {{ absent_units(coded_absent_value('coalesce(coded.absent_value, 0)', 'coded.attendance_category')) }}
        end as units_suspension_excluded
    from current_records
    left join school_codes as coded
        on
            current_records.district_id = coded.district_id
            and current_records.school_id is not distinct from coded.school_id
            and current_records.absence_code = coded.absence_code
),

-- one pass per day: the daily record (at most one once duplicates are gone) and the period sums
per_day as (
    select
        district_id,
        student_id,
        school_id,
        attendance_date,
        count(case when is_daily_record then 1 end) > 0 as has_daily_record,
        max(case when is_daily_record then absence_code end) as daily_absence_code,
        max(case when is_daily_record then attendance_category end) as daily_category,
        max(case when is_daily_record then units_as_coded end) as daily_units_as_coded,
        max(case when is_daily_record then units_suspension_as_absent end) as daily_units_suspension_as_absent,
        max(case when is_daily_record then units_suspension_excluded end) as daily_units_suspension_excluded,
        max(case when is_daily_record and absent_value is null then 1 else 0 end) = 1 as has_unknown_daily_code,
        -- the periods the day rolls up over: its period records, or more when the student is
        -- scheduled for periods the source does not list
        greatest(
            count(case when not is_daily_record then 1 end),
            coalesce(max(case when not is_daily_record then scheduled_period_count end), 0)
        ) as period_count,
        sum(case when not is_daily_record then units_as_coded end) as period_units_as_coded,
        sum(case when not is_daily_record then units_suspension_as_absent end) as period_units_suspension_as_absent,
        sum(case when not is_daily_record then units_suspension_excluded end) as period_units_suspension_excluded,
        min(case when not is_daily_record and units_as_coded > 0 then {{ category_precedence('attendance_category') }} end)
            as absent_category_rank,
        min(
            case
                when not is_daily_record and attendance_category in ('earlyDeparture', 'tardy')
                    then {{ category_precedence('attendance_category') }}
            end
        ) as late_category_rank
    from valued
    group by district_id, student_id, school_id, attendance_date
),

rolled_up as (
    select
        *,
        {{ period_rollup_units('period_units_as_coded', 'period_count') }} as rolled_units_as_coded,
        {{ period_rollup_units('period_units_suspension_as_absent', 'period_count') }} as rolled_units_suspension_as_absent,
        {{ period_rollup_units('period_units_suspension_excluded', 'period_count') }} as rolled_units_suspension_excluded
    from per_day
),

final as (
    select
        district_id,
        student_id,
        school_id,
        attendance_date,
        case when has_daily_record then 'daily' else 'period_rollup' end as attendance_source,
        daily_absence_code as absence_code,
        case
            -- a daily record with a code absenceCodes.csv does not list counts present
            when has_daily_record then coalesce(daily_category, 'present')
            when rolled_units_as_coded > 0 then {{ category_of_precedence('absent_category_rank') }}
            when rolled_units_suspension_as_absent > 0 then 'suspension'
            when late_category_rank is not null then {{ category_of_precedence('late_category_rank') }}
            else 'present'
        end as attendance_category,
        case when has_daily_record then daily_units_as_coded else rolled_units_as_coded end as absent_units,
        case when has_daily_record then daily_units_suspension_as_absent else rolled_units_suspension_as_absent end
            as absent_units_suspension_as_absent,
        case when has_daily_record then daily_units_suspension_excluded else rolled_units_suspension_excluded end
            as absent_units_suspension_excluded,
        has_unknown_daily_code as is_unknown_code,
        case when period_count > 0 then period_count end as period_count,
        {{ this_build_started_at() }} as built_at
    from rolled_up
)

select * from final
