{#- Shared pieces of every OneRoster staging model. -#}

{#-
    The current version of each record: the latest landed row per district and sourcedId.
    Raw tables keep every version; staging shows one.
-#}
{% macro latest_oneroster_records(source_relation) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by _district_id, trim(sourced_id)
                order by _loaded_at desc, _row_number desc
            ) as _version_rank
        from {{ source_relation }}
        where {{ clean_text('sourced_id') }} is not null
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- Columns every OneRoster record carries: district, record status and modification time. -#}
{% macro oneroster_record_columns() -%}
        _district_id as district_id,
        {{ clean_enum('status') }} as record_status,
        {{ is_tombstone('status') }} as is_tombstoned,
        {{ parse_timestamp('date_last_modified') }} as last_modified_at,
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
