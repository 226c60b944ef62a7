{#- Shared pieces of every OneRoster staging model. -#}

{#-
    The current state of each record from its raw event history: the latest landed file row
    per district and sourcedId, plus the time of a later bulk_tombstone event (the record was
    missing from a newer bulk file) when there is one. Raw tables keep every version;
    staging shows one row per record, tombstoned records included and flagged. Only records
    with more than one version are ranked (found by hash), so a first load of tens of millions
    of rows is never sorted. `repeated_keys`: a CTE of the model (record_key, at least the keys
    with several file rows) when it needs them itself, so they are found in one pass.
-#}
{% macro latest_oneroster_records(source_relation, repeated_keys=none) -%}
    {%- set record_key = row_hash(['_district_id', 'trim(sourced_id)']) -%}
    with file_rows as {{ inline_cte() }} (
        select * from {{ source_relation }}
        where
            {{ clean_text('sourced_id') }} is not null
            and coalesce(_change_kind, 'file_row') = 'file_row'
    ),

    {%- if repeated_keys is none %}

    repeated_keys as (
        select {{ record_key }} as record_key
        from file_rows
        group by {{ record_key }}
        having count(*) > 1
    ),
    {%- endif %}

    superseded_rows as (
        select
            _district_id,
            _file_sha256,
            _row_number
        from (
            select
                _district_id,
                _file_sha256,
                _row_number,
                row_number() over (
                    partition by _district_id, trim(sourced_id)
                    order by _loaded_at desc, _row_number desc, _file_sha256 desc
                ) as version_rank
            from file_rows
            where {{ record_key }} in (select record_key from {{ repeated_keys or 'repeated_keys' }})
        ) as ranked
        where version_rank > 1
    ),

    latest_rows as (
        select file_rows.*
        from file_rows
        left join superseded_rows
            on
                file_rows._district_id = superseded_rows._district_id
                and file_rows._file_sha256 = superseded_rows._file_sha256
                and file_rows._row_number = superseded_rows._row_number
        where superseded_rows._row_number is null
    ),

    tombstones as (
        select
            _district_id,
            trim(sourced_id) as sourced_id,
            max(_loaded_at) as tombstoned_at
        from {{ source_relation }}
        where _change_kind = 'bulk_tombstone'
        group by _district_id, trim(sourced_id)
    )

    select
        latest_rows.*,
        tombstones.tombstoned_at as _bulk_tombstoned_at
    from latest_rows
    left join tombstones
        on
            latest_rows._district_id = tombstones._district_id
            and trim(latest_rows.sourced_id) = tombstones.sourced_id
            and latest_rows._loaded_at < tombstones.tombstoned_at
{%- endmacro %}

{#-
    Columns every OneRoster record carries: district, record status, modification time, the
    mode of the file it came from, and whether (and when) it was tombstoned — by a delta
    status of tobedeleted/inactive or by disappearing from a newer bulk file.
-#}
{% macro oneroster_record_columns() -%}
        _district_id as district_id,
        {{ clean_enum('status') }} as record_status,
        ({{ is_tombstone('status') }} or _bulk_tombstoned_at is not null) as is_tombstoned,
        case
            when _bulk_tombstoned_at is not null then _bulk_tombstoned_at
            when {{ is_tombstone('status') }} then coalesce({{ parse_timestamp('date_last_modified') }}, _loaded_at)
        end as tombstoned_at,
        {{ parse_timestamp('date_last_modified') }} as last_modified_at,
        _file_mode as file_mode,
{%- endmacro %}

{#- Lineage carried from raw: where each row came from. -#}
{% macro lineage_columns() -%}
        _extras as extras,
        _source_file as source_file,
        _file_sha256 as file_sha256,
        _load_id as load_id,
        _row_number as source_row_number,
        _loaded_at as loaded_at
{%- endmacro %}
