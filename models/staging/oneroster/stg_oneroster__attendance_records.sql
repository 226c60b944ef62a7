-- Incremental: a build re-stages only the records that have a raw event (a file row or a bulk
-- tombstone) newer than the last one staged, from all of those records' raw versions. A
-- record a correction moved to another student or date keeps where it was (previous_slices),
-- so the incremental attendance models recompute the days it left.
{{ config(
    materialized='incremental',
    unique_key=['district_id', 'attendance_record_id'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with source as {{ inline_cte() }} (
    select * from {{ source('raw_oneroster', 'attendance') }}
    {%- if is_incremental() %}
        where (_district_id, trim(sourced_id)) in (
            select
                _district_id,
                trim(sourced_id)
            from {{ source('raw_oneroster', 'attendance') }}
            where _loaded_at > (select max(changed_at) from {{ this }})
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

final as (
    select
        renamed.*,
        {%- if is_incremental() %}
            case
                when
                    previous_version.attendance_record_id is null
                    or (
                        previous_version.user_id is not distinct from renamed.user_id
                        and previous_version.attendance_date is not distinct from renamed.attendance_date
                    )
                    then previous_version.previous_slices
                else {{ append_previous_slice('previous_version.previous_slices', 'previous_version.user_id', 'previous_version.attendance_date') }}
            end as previous_slices
        {%- else %}
            cast(null as {{ previous_slices_type() }}) as previous_slices
        {%- endif %}
    from renamed
    {%- if is_incremental() %}
        left join {{ this }} as previous_version
            on
                renamed.district_id = previous_version.district_id
                and renamed.attendance_record_id = previous_version.attendance_record_id
    {%- endif %}
)

select * from final
