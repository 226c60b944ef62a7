{#-
    How many passes a from-scratch aggregation over ``relation`` takes: one per
    var('aggregation_rows_per_pass') rows, each pass grouping one hash bucket of the students
    (hash_bucket), so that each pass's groups fit in memory. A grouping whose groups are scattered
    over a table far larger than memory otherwise spills about every input row before it can combine
    them (at 1,000,000 students: over 30 GB of temp files for the weekly segments, against 1.2 GB
    in eight passes). One pass in an incremental run, at parse time, in unit tests and before
    ``relation`` exists.
-#}
{% macro aggregation_passes(relation) -%}
    {%- if not execute or is_incremental() or model.get('resource_type') != 'model' or load_relation(relation) is none -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set rows = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {%- set per_pass = var('aggregation_rows_per_pass') | int -%}
    {{ return([1, ((rows + per_pass - 1) // per_pass) | int] | max) }}
{%- endmacro %}

{#- The filter of pass ``pass`` of ``passes`` over ``column`` (nothing when there is one pass). -#}
{% macro aggregation_pass_filter(column, pass, passes) -%}
    {%- if passes > 1 -%}
        where {{ hash_bucket(column, passes) }} = {{ pass }}
    {%- endif -%}
{%- endmacro %}
