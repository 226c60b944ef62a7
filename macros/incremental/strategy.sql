{#-
    How the incremental models write, per adapter, in one place (docs/performance.md,
    docs/scale-out.md). DuckDB deletes and re-inserts exactly the changed slices: `append` after
    the slice-deleting pre-hook, or `delete+insert` on a unique key. Spark tables in parquet have
    no DELETE (that needs Delta or Iceberg), so on Spark an incremental run recomputes whole
    districts and overwrites their partitions (`insert_overwrite`, partitioned by district).
-#}
{% macro incremental_config(duckdb_strategy) -%}
    {{ return(adapter.dispatch('incremental_config', 'rollcall')(duckdb_strategy)) }}
{%- endmacro %}

{% macro duckdb__incremental_config(duckdb_strategy) -%}
    {{ return({'incremental_strategy': duckdb_strategy}) }}
{%- endmacro %}

{% macro spark__incremental_config(duckdb_strategy) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': ['district_id'], 'file_format': 'parquet'}) }}
{%- endmacro %}

{#- True where an incremental run recomputes whole districts instead of deleting slices (Spark). -#}
{% macro rewrites_whole_districts() -%}
    {{ return(adapter.dispatch('rewrites_whole_districts', 'rollcall')()) }}
{%- endmacro %}

{% macro duckdb__rewrites_whole_districts() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__rewrites_whole_districts() -%}
    {{ return(true) }}
{%- endmacro %}
