-- Incremental: a build re-stages only the records that have a raw event (a file row or a bulk
-- tombstone) newer than the last one staged, from all of those records' raw versions. A
-- record a correction moved to another student or date lists where it was (previous_slices),
-- so the incremental attendance models recompute the days it left.
{{ config(
    materialized='incremental',
    unique_key=['district_id', 'attendance_record_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
{%- set watermark = none %}
{%- if is_incremental() and execute %}
    {%- set watermark = run_query('select max(changed_at) from ' ~ this).columns[0].values()[0] %}
{%- endif %}

with source as {{ inline_cte() }} (
    select * from {{ source('raw_oneroster', 'attendance') }}
    {%- if watermark is not none %}
        -- a literal watermark lets DuckDB see from the table's statistics how few rows are new
        where (_district_id, trim(sourced_id)) in (
            select
                _district_id,
                trim(sourced_id)
            from {{ source('raw_oneroster', 'attendance') }}
            where _loaded_at > cast('{{ watermark }}' as {{ type_timestamp_tz() }})
        )
    {%- endif %}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as attendance_record_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('user_sourced_id') }} as user_id,
        {{ clean_text('school_sourced_id') }} as school_id,
        {{ clean_text('class_sourced_id') }} as class_id,
        {{ clean_text('period') }} as period,
        {{ parse_date('date') }} as attendance_date,
        {{ clean_text('absence_code') }} as absence_code,
        {{ clean_text('class_sourced_id') }} is null as is_daily_record,
        greatest(_loaded_at, coalesce(_bulk_tombstoned_at, _loaded_at)) as changed_at,
        {{ lineage_columns() }}
    from latest
),

-- the student and date of every version of a record that has more than one
earlier_versions as (
    select
        _district_id as district_id,
        {{ clean_text('sourced_id') }} as attendance_record_id,
        {{ clean_text('user_sourced_id') }} as student_id,
        {{ parse_date('date') }} as attendance_date
    from source
    where
        coalesce(_change_kind, 'file_row') = 'file_row'
        and {{ row_hash(['_district_id', 'trim(sourced_id)']) }} in (
            select {{ row_hash(['versions._district_id', 'trim(versions.sourced_id)']) }}
            from source as versions
            where coalesce(versions._change_kind, 'file_row') = 'file_row'
            group by {{ row_hash(['versions._district_id', 'trim(versions.sourced_id)']) }}
            having count(*) > 1
        )
),

moved_from as (
    select
        earlier_versions.district_id,
        earlier_versions.attendance_record_id,
        {{ collect_previous_slices('earlier_versions.student_id', 'earlier_versions.attendance_date') }}
            as previous_slices
    from earlier_versions
    inner join renamed
        on
            earlier_versions.district_id = renamed.district_id
            and earlier_versions.attendance_record_id = renamed.attendance_record_id
    where
        earlier_versions.student_id is distinct from renamed.user_id
        or earlier_versions.attendance_date is distinct from renamed.attendance_date
    group by earlier_versions.district_id, earlier_versions.attendance_record_id
),

final as (
    select
        renamed.*,
        moved_from.previous_slices
    from renamed
    left join moved_from
        on
            renamed.district_id = moved_from.district_id
            and renamed.attendance_record_id = moved_from.attendance_record_id
)

select * from final
