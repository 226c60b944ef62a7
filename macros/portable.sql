{#- SQL the adapters spell differently, in one place: each macro dispatches, and the duckdb__ versions are the ones dbt-duckdb runs. -#}

{#- A 64-bit float (dbt's type_float is a 32-bit REAL on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'rollcall')()) }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- A 64-bit hash of several columns (nulls included): a grouping shortcut, never a key. -#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'rollcall')(columns)) }}
{%- endmacro %}

{% macro duckdb__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{#- Which of ``buckets`` parts a row falls in (0 to buckets - 1), by row_hash of ``column``. -#}
{% macro hash_bucket(column, buckets) -%}
    {{ return(adapter.dispatch('hash_bucket', 'rollcall')(column, buckets)) }}
{%- endmacro %}

{#- DuckDB's hash is unsigned -#}
{% macro duckdb__hash_bucket(column, buckets) -%}
    ({{ row_hash([column]) }} % {{ buckets }})
{%- endmacro %}

{#- Spark's xxhash64 is signed: pmod keeps the bucket positive -#}
{% macro spark__hash_bucket(column, buckets) -%}
    pmod({{ row_hash([column]) }}, {{ buckets }})
{%- endmacro %}

{#-
    Marks a CTE that is read more than once to be inlined, not materialized: for CTEs over tens
    of millions of wide rows, scanning the table twice beats holding it in memory.
-#}
{% macro inline_cte() -%}
    {{ return(adapter.dispatch('inline_cte', 'rollcall')()) }}
{%- endmacro %}

{% macro duckdb__inline_cte() -%}
    not materialized
{%- endmacro %}

{% macro spark__inline_cte() -%}{%- endmacro %}

{#- Marks a small CTE that is read more than once to be computed once. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'rollcall')()) }}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro spark__materialized_cte() -%}{%- endmacro %}

{#- Integer division (truncating). -#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide', 'rollcall')(numerator, denominator)) }}
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    ({{ numerator }} // {{ denominator }})
{%- endmacro %}

{% macro spark__integer_divide(numerator, denominator) -%}
    ({{ numerator }} div {{ denominator }})
{%- endmacro %}

{#- A timestamp with a time zone (the loaders' _loaded_at). -#}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz', 'rollcall')()) }}
{%- endmacro %}

{% macro duckdb__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__type_timestamp_tz() -%}
    timestamp
{%- endmacro %}

{#- A type as a model contract spells it (DuckDB's names), in this adapter's spelling. -#}
{% macro contract_data_type(data_type) -%}
    {{ return(adapter.dispatch('contract_data_type', 'rollcall')(data_type)) }}
{%- endmacro %}

{% macro duckdb__contract_data_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro spark__contract_data_type(data_type) -%}
    {{ return(spark_contract_type(data_type)) }}
{%- endmacro %}
