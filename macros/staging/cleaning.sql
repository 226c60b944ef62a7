{#- Typing helpers for staging models. All raw values arrive as text. -#}

{#- Trimmed text, empty string as null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Lower-cased trimmed text for enumerations (OneRoster enumerations are case-sensitive, files are not). -#}
{% macro clean_enum(column) -%}
    lower({{ clean_text(column) }})
{%- endmacro %}

{#-
    A date: ISO YYYY-MM-DD (optionally followed by a time), else the US M/D/YYYY seen in real
    exports (1/05/2023); anything else is null. The loader counts non-ISO values as warnings.
-#}
{% macro parse_date(column) -%}
    {{ return(adapter.dispatch('parse_date', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__parse_date(column) -%}
    coalesce(
        try_cast(left({{ clean_text(column) }}, 10) as date),
        cast(try_strptime({{ clean_text(column) }}, '%m/%d/%Y') as date)
    )
{%- endmacro %}

{% macro spark__parse_date(column) -%}
    coalesce(
        try_cast(left({{ clean_text(column) }}, 10) as date),
        try_to_date({{ clean_text(column) }}, 'M/d/yyyy')
    )
{%- endmacro %}

{#- An ISO 8601 timestamp (UTC), else a bare date in either form above at midnight; else null. -#}
{% macro parse_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(column) -%}
    coalesce(
        try_cast({{ clean_text(column) }} as timestamp),
        cast({{ duckdb__parse_date(column) }} as timestamp)
    )
{%- endmacro %}

{% macro spark__parse_timestamp(column) -%}
    coalesce(
        try_cast({{ clean_text(column) }} as timestamp),
        cast({{ spark__parse_date(column) }} as timestamp)
    )
{%- endmacro %}

{#- Decimal such as an absent value or day value. -#}
{% macro parse_decimal(column, precision=9, scale=4) -%}
    {{ dbt.safe_cast(clean_text(column), "decimal(" ~ precision ~ ", " ~ scale ~ ")") }}
{%- endmacro %}

{#- Integer such as a school year. -#}
{% macro parse_integer(column) -%}
    {{ dbt.safe_cast(clean_text(column), api.Column.translate_type("integer")) }}
{%- endmacro %}

{#- true/false in the spellings seen in real files; anything else is null. -#}
{% macro parse_boolean(column) -%}
    case
        when {{ clean_enum(column) }} in ('true', 't', '1', 'yes', 'y') then true
        when {{ clean_enum(column) }} in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{#- OneRoster list field ("a,b") as a list of trimmed, non-empty values. -#}
{% macro split_list(column) -%}
    {{ return(adapter.dispatch('split_list', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__split_list(column) -%}
    list_filter(list_transform(string_split(coalesce({{ column }}, ''), ','), x -> trim(x)), x -> x <> '')
{%- endmacro %}

{% macro spark__split_list(column) -%}
    filter(transform(split(coalesce({{ column }}, ''), ','), x -> trim(x)), x -> x <> '')
{%- endmacro %}

{#- OneRoster status: tobedeleted (and the 1.0-era inactive) mark a tombstone. -#}
{% macro is_tombstone(column) -%}
    coalesce({{ clean_enum(column) }} in ('tobedeleted', 'inactive'), false)
{%- endmacro %}

{#- A camelCase OneRoster enumeration matched case-insensitively and returned in its canonical spelling. -#}
{% macro canonical_enum(column, values) -%}
    case {{ clean_enum(column) }}
        {%- for value in values %}
        when '{{ value | lower }}' then '{{ value }}'
        {%- endfor %}
        else {{ clean_enum(column) }}
    end
{%- endmacro %}
