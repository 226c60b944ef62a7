{#-
    on-run-end: every `dbt build` records itself in audit.build_log, so `rollcall build` can
    select only what the loads since the last complete build changed (rollcall/build_plan.py).
    A build covers all changes when it selected nothing of its own, or when rollcall planned
    its selection. rollcall passes the plan in environment variables, not vars, so that a plain
    `dbt` between two `rollcall build`s keeps dbt's partial parse.
-#}
{% macro record_build(results) -%}
    {%- if execute and flags.WHICH == 'build' -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped']) | list -%}
        {%- set own_selection = invocation_args_dict.get('select') or invocation_args_dict.get('exclude') or invocation_args_dict.get('selector') -%}
        {%- set covers = env_var('ROLLCALL_PLANNED_BUILD', '') == 'true' or not own_selection -%}
        {%- set fingerprint = env_var('ROLLCALL_PROJECT_FINGERPRINT', '') -%}
        {%- set statements = [] -%}
        {%- do statements.append('create schema if not exists audit') -%}
        {%- set create_table -%}
        create table if not exists audit.build_log (
            invocation_id {{ dbt.type_string() }},
            started_at {{ dbt.type_timestamp() }},
            finished_at {{ dbt.type_timestamp() }},
            status {{ dbt.type_string() }},
            covers_all_changes boolean,
            project_fingerprint {{ dbt.type_string() }},
            build_date date,
            nodes_run integer,
            nodes_failed integer
        )
        {%- endset -%}
        {%- do statements.append(create_table) -%}
        {%- set insert -%}
        insert into audit.build_log values (
            '{{ invocation_id }}',
            cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}),
            {{ dbt.current_timestamp() }},
            '{{ "failed" if failed else "success" }}',
            {{ 'true' if covers else 'false' }},
            {{ "'" ~ fingerprint ~ "'" if fingerprint else 'null' }},
            current_date,
            {{ results | length }},
            {{ failed | length }}
        )
        {%- endset -%}
        {%- do statements.append(insert) -%}
        {{ run_statements(statements) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- A hook of several statements: one script where the adapter runs scripts (DuckDB), else one at a time. -#}
{% macro run_statements(statements) -%}
    {{ return(adapter.dispatch('run_statements', 'rollcall')(statements)) }}
{%- endmacro %}

{% macro duckdb__run_statements(statements) -%}
    {{ statements | join(';\n') }}
{%- endmacro %}

{% macro spark__run_statements(statements) -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    select 1
{%- endmacro %}
