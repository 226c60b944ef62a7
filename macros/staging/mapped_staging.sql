{#- Shared pieces of the staging models over mapped exports (config/formats). -#}
{#-
    Snapshot layouts (kind: snapshot): each landed file is the district's whole list, so the
    current state is the rows of the latest landed file per district.
-#}
{% macro latest_mapped_file(source_relation) -%}
    select *
    from (
        select
            *,
            dense_rank() over (
                partition by _district_id
                order by _loaded_at desc, _load_id desc, _file_sha256 desc
            ) as _file_rank
        from {{ source_relation }}
    ) as ranked
    where _file_rank = 1
{%- endmacro %}

{#-
    Event layouts (kind: events): every file adds rows; a row sent again (same key) counts once,
    its latest copy wins.
-#}
{% macro latest_mapped_events(source_relation, key_columns) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by _district_id, {{ key_columns | join(', ') }}
                order by _loaded_at desc, _row_number desc
            ) as _version_rank
        from {{ source_relation }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- Lineage carried from a mapped raw table. -#}
{% macro mapped_lineage_columns() -%}
        _extras as extras,
        _format as source_format,
        _source_file as source_file,
        _file_sha256 as file_sha256,
        _load_id as load_id,
        _row_number as source_row_number,
        _loaded_at as loaded_at
{%- endmacro %}

{#- An email address for matching and messaging: trimmed, lower case, null when not an address. -#}
{% macro clean_email(column) -%}
    case when {{ clean_text(column) }} like '%_@_%' then lower({{ clean_text(column) }}) end
{%- endmacro %}

{#- Language code with English as the default (seed 002: no code means English). -#}
{% macro language_or_english(column) -%}
    coalesce(lower({{ clean_text(column) }}), 'en')
{%- endmacro %}

{#- Digits of a phone number typed into a free-text field (an opt-out list), formatting dropped. -#}
{% macro digits_only(column) -%}
    {{ return(adapter.dispatch('digits_only', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__digits_only(column) -%}
    regexp_replace({{ clean_text(column) }}, '[^0-9]', '', 'g')
{%- endmacro %}

{% macro spark__digits_only(column) -%}
    regexp_replace({{ clean_text(column) }}, '[^0-9]', '')
{%- endmacro %}

{#- A 10-digit North American number that can take text messages: not toll-free (8xx). -#}
{% macro is_sms_capable(digits_column) -%}
    ({{ digits_column }} is not null and left({{ digits_column }}, 3) not in ('800', '833', '844', '855', '866', '877', '888'))
{%- endmacro %}

{#- A phone column of a mapped layout: as sent, and the loader's 10 digits and validity. -#}
{% macro phone_columns(column) -%}
        {{ clean_text(column) }} as {{ column }}_as_sent,
        {{ column }}_digits,
        {{ column }}_is_valid
{%- endmacro %}

{#- Name and contact columns every SIS person layout shares (students, staff, guardians). -#}
{% macro sis_contact_columns(has_alternate_email=true) -%}
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_email('email') }} as email,
        {%- if has_alternate_email %}
        {{ clean_email('alternate_email') }} as alternate_email,
        {%- endif %}
        {{ phone_columns('phone') }},
        {{ phone_columns('alternate_phone') }},
        {{ language_or_english('language_code') }} as language_code
{%- endmacro %}
