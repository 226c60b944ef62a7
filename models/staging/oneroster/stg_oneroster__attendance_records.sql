-- Incremental: a build re-stages only the records that have a raw event (a file row or a bulk
-- tombstone) newer than the last one staged, from all of those records' raw versions. A
-- record a correction moved to another student or date lists where it was (previous_slices),
-- so the incremental attendance models recompute the days it left.
{{ config(
    materialized='incremental',
    unique_key=['district_id', 'attendance_record_id'],
    on_schema_change='fail',
    **incremental_config('delete+insert')
) }}
{%- set watermark = none %}
{%- if is_incremental() and execute and not rewrites_whole_districts() %}
    {%- set watermark = run_query('select max(changed_at) from ' ~ this).columns[0].values()[0] %}
{%- endif %}

with
{%- if watermark is not none %}

    -- the raw rows landed since the last build; a literal watermark lets DuckDB skip the rest of
    -- the table by its statistics
    new_rows as {{ materialized_cte() }} (
        select * from {{ source('raw_oneroster', 'attendance') }}
        where _loaded_at > cast('{{ watermark }}' as {{ type_timestamp_tz() }})
    ),

    -- changed records staged before: only they have earlier raw versions to read (usually none,
    -- and then the raw table is not read at all)
    known_keys as {{ materialized_cte() }} (
        select
            district_id,
            attendance_record_id
        from {{ this }}
        where (district_id, attendance_record_id) in (select _district_id, trim(sourced_id) from new_rows)
    ),

    source as {{ materialized_cte() }} (
        select * from new_rows
        union all
        select * from {{ source('raw_oneroster', 'attendance') }}
        where
            _loaded_at <= cast('{{ watermark }}' as {{ type_timestamp_tz() }})
            and (_district_id, trim(sourced_id)) in (select district_id, attendance_record_id from known_keys)
    ),
{%- else %}

    -- a full build reads every raw row: inlined, never held in memory
    source as {{ inline_cte() }} (
        select * from {{ source('raw_oneroster', 'attendance') }}
    ),
{%- endif %}

-- records with more than one version (found by hash): ranked by latest_oneroster_records, and
-- read for where they were before
repeated_records as {{ materialized_cte() }} (
    select {{ row_hash(['_district_id', 'trim(sourced_id)']) }} as record_key
    from source
    where coalesce(_change_kind, 'file_row') = 'file_row'
    group by {{ row_hash(['_district_id', 'trim(sourced_id)']) }}
    having count(*) > 1
),

latest as (
    {{ latest_oneroster_records('source', repeated_keys='repeated_records') }}
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

-- the student and date of every version of the repeated records, newest first (the same order
-- latest_oneroster_records keeps the newest by). Only these few rows are compared, so the
-- records themselves (renamed) are read once, as a stream.
repeated_versions as {{ materialized_cte() }} (
    select
        _district_id as district_id,
        {{ clean_text('sourced_id') }} as attendance_record_id,
        {{ clean_text('user_sourced_id') }} as student_id,
        {{ parse_date('date') }} as attendance_date,
        row_number() over (
            partition by _district_id, trim(sourced_id)
            order by _loaded_at desc, _row_number desc, _file_sha256 desc
        ) as version_rank
    from source
    where
        coalesce(_change_kind, 'file_row') = 'file_row'
        and {{ clean_text('sourced_id') }} is not null
        and {{ row_hash(['_district_id', 'trim(sourced_id)']) }} in (select repeated_records.record_key from repeated_records)
),

-- where each record was before its newest version, when that was another student or date
moved_from as (
    select
        earlier.district_id,
        earlier.attendance_record_id,
        {{ collect_previous_slices('earlier.student_id', 'earlier.attendance_date') }} as previous_slices
    from repeated_versions as earlier
    inner join repeated_versions as newest
        on
            earlier.district_id = newest.district_id
            and earlier.attendance_record_id = newest.attendance_record_id
            and newest.version_rank = 1
    where
        earlier.version_rank > 1
        and (
            earlier.student_id is distinct from newest.student_id
            or earlier.attendance_date is distinct from newest.attendance_date
        )
    group by earlier.district_id, earlier.attendance_record_id
),

final as (
    select
        renamed.*,
        moved_from.previous_slices,
        {{ this_build_started_at() }} as built_at
    from renamed
    left join moved_from
        on
            renamed.district_id = moved_from.district_id
            and renamed.attendance_record_id = moved_from.attendance_record_id
)

select * from final
