{#- dbt's own macros, overridden on Spark where dbt-spark falls short for this project. -#}

{#-
    Seeds on Spark: values written as escaped literals, empty cells as null. dbt-spark's own
    `session` loading passes values as unescaped text ("codes' absent value" breaks the insert,
    an empty cell becomes the text 'None').
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for value in row -%}
                    {%- set type = column_override.get(agate_table.column_names[loop.index0], adapter.convert_type(agate_table, loop.index0)) -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {{- ', ' if not loop.last -}}
                {%- endfor -%}
                ){{- ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#-
    Model contracts on Spark. The marts' contracts spell DuckDB's types (varchar, hugeint,
    timestamp with time zone, varchar[]); on Spark each is translated to its Spark spelling (a
    hugeint is DuckDB's sum of bigints, a bigint on Spark). The
    model's columns must have the contract's names and types, except a decimal's precision
    (Spark widens a sum's precision where DuckDB keeps another); the table is then written with
    the contract's types exactly (each column cast), as on DuckDB.
-#}
{% macro spark_contract_type(data_type) -%}
    {%- set spelled = data_type | trim | lower -%}
    {%- set translated = {
        'varchar': 'string',
        'varchar[]': 'array<string>',
        'hugeint': 'bigint',
        'timestamp with time zone': 'timestamp',
        'integer': 'int',
    } -%}
    {{- return(translated.get(spelled, spelled)) -}}
{%- endmacro %}

{% macro spark__get_assert_columns_equivalent(sql) -%}
    {%- set declared = {} -%}
    {%- for name, column in model['columns'].items() -%}
        {%- do declared.update({name: {'name': column['name'], 'data_type': spark_contract_type(column['data_type']), 'quote': column.get('quote')}}) -%}
    {%- endfor -%}
    {%- if not declared -%}
        {{ exceptions.raise_contract_error([], []) }}
    {%- endif -%}
    {%- set sql_columns = format_columns(get_column_schema_from_query(sql, config.get('sql_header', none))) -%}
    {%- set yaml_columns = format_columns(get_column_schema_from_query(get_empty_schema_sql(declared))) -%}
    {%- set any_precision = [] -%}
    {%- for columns in [sql_columns, yaml_columns] -%}
        {%- do any_precision.append(columns | map(attribute='formatted') | map('lower') | sort | list
            | join('|') | replace(' ', '')) -%}
    {%- endfor -%}
    {%- set pattern = 'decimal\\(\\d+,' -%}
    {%- if modules.re.sub(pattern, 'decimal(', any_precision[0]) != modules.re.sub(pattern, 'decimal(', any_precision[1]) -%}
        {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
    {%- endif -%}
{%- endmacro %}

{% macro spark__get_select_subquery(sql) -%}
    select
        {%- for name, column in model['columns'].items() %}
        cast({{ name }} as {{ spark_contract_type(column['data_type']) }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        {{ sql }}
    ) as model_subq
{%- endmacro %}

{#-
    listagg on Spark with its order: dbt-spark ignores `order by` (a warning), which would make
    lists, and the keys hashed from them, differ from DuckDB's. The values are collected with
    their order keys, sorted, and joined.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error('listagg: limit_num is not supported on Spark') }}
    {%- endif -%}
    {%- if order_by_clause -%}
        {%- set keys = order_by_clause | trim | replace('order by ', '', 1) | replace('ORDER BY ', '', 1) -%}
        {%- set fields = [] -%}
        {%- for key in keys.split(',') -%}
            {%- if ' desc' in key | lower or ' asc' in key | lower -%}
                {{ exceptions.raise_compiler_error('listagg on Spark: order keys ascending only, got ' ~ key) }}
            {%- endif -%}
            {%- do fields.append("'k" ~ loop.index ~ "', " ~ key | trim) -%}
        {%- endfor -%}
        array_join(transform(
            array_sort(collect_list(named_struct({{ fields | join(', ') }}, 'value', {{ measure }}))),
            item -> item.value
        ), {{ delimiter_text }})
    {%- else -%}
        array_join(collect_list({{ measure }}), {{ delimiter_text }})
    {%- endif -%}
{%- endmacro %}
