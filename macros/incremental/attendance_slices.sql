{#-
    Incremental attendance (docs/performance.md). A slice is one student's days from a date on.
    `int_attendance_changed_slices` lists, for each build, the slices whose inputs changed since
    the previous build: per student (a changed record or enrollment) and per district (a changed
    calendar, session, code, rule or as-of date). The incremental attendance models delete the
    rows of those slices before inserting them again (pre-hook), and record which build of the
    change list they consumed (post-hook). A model that missed a build of the change list (run
    on its own, or the list rebuilt without it) rebuilds itself whole, so a partial `dbt run`
    can never leave it stale.
-#}

{#- "From the beginning": the date a whole-student or whole-district change starts from. -#}
{% macro beginning_of_time() -%}
    cast('1900-01-01' as date)
{%- endmacro %}

{#- After every school day: "no change". -#}
{% macro end_of_time() -%}
    cast('9999-12-31' as date)
{%- endmacro %}

{#- A timestamp before every load, for "nothing seen yet". -#}
{% macro beginning_of_time_ts() -%}
    cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The table that remembers which build of the change list each incremental model consumed
    (build bookkeeping, beside audit.build_log). -#}
{% macro slice_state_relation() -%}
    {%- set slices = ref('int_attendance_changed_slices') -%}
    {{ return(api.Relation.create(database=slices.database, schema='audit', identifier='attendance_incremental_state')) }}
{%- endmacro %}

{#-
    How this model stands to the change list, as SQL:
      'current'  it already consumed this build of the list: nothing to do;
      'next'     it consumed the previous build: recompute the listed slices;
      anything else (missed a build, first incremental run): rebuild everything.
-#}
{% macro slice_sync_status() -%}
    {%- set slices = ref('int_attendance_changed_slices') -%}
    {%- set state = slice_state_relation() -%}
    {%- set state_exists = adapter.get_relation(database=state.database, schema=state.schema, identifier=state.identifier) if execute else none -%}
    {%- if state_exists is none or rewrites_whole_districts() -%}
        'rebuild'
    {%- else -%}
        coalesce((
            select
                case
                    when consumed.changes_built_at = changes.built_at then 'current'
                    when consumed.changes_built_at = changes.previous_built_at then 'next'
                    else 'rebuild'
                end
            from (select max(built_at) as built_at, max(previous_built_at) as previous_built_at from {{ slices }}) as changes
            cross join (
                select max(changes_built_at) as changes_built_at from {{ state }} where model_name = '{{ this.identifier }}'
            ) as consumed
        ), 'rebuild')
    {%- endif -%}
{%- endmacro %}

{#-
    The students whose slice must be recomputed, with the date it starts from (slice_start):
    the earlier of the student's own change and the district's. `candidates` (a relation or
    subquery with district_id, student_id and candidate_date, the latest date a student's rows
    can reach) supplies the students of a district-wide change; only candidates with a date on
    or after the district's start are read for it, so an hourly build looks at one day, not the
    year. Outside an incremental run, and when the model missed a build of the change list, every
    candidate from the beginning of time.
-#}
{% macro changed_slice_starts(candidates) -%}
    {#- referenced outside the branch, so dbt sees the dependency when it parses (not incremental) -#}
    {%- set slices = ref('int_attendance_changed_slices') -%}
    {%- if is_incremental() %}
        select
            district_id,
            student_id,
            min(slice_start) as slice_start
        from (
            {{ student_slice_changes() }}
            union all
            select distinct
                candidates.district_id,
                candidates.student_id,
                district_change.slice_start
            from {{ candidates }} as candidates
            inner join (
                {{ district_slice_changes() }}
            ) as district_change
                on
                    candidates.district_id = district_change.district_id
                    and coalesce(candidates.candidate_date, {{ beginning_of_time() }}) >= district_change.slice_start
        ) as starts
        group by district_id, student_id
    {%- else %}
        select distinct
            district_id,
            student_id,
            {{ beginning_of_time() }} as slice_start
        from {{ candidates }}
    {%- endif %}
{%- endmacro %}

{#- The per-student changes of the list this model is due to consume: district_id, student_id,
    slice_start (none when the model is current, or must rebuild everything). -#}
{% macro student_slice_changes() -%}
    select
        district_id,
        student_id,
        changed_from_date as slice_start
    from {{ ref('int_attendance_changed_slices') }}
    where
        student_id is not null
        and changed_from_date is not null
        and {{ slice_sync_status() }} = 'next'
{%- endmacro %}

{#- The district-wide changes this model is due to consume: district_id, slice_start (the
    beginning of time for every district when the model must rebuild everything). -#}
{% macro district_slice_changes() -%}
    select
        district_id,
        case when {{ slice_sync_status() }} = 'rebuild' then {{ beginning_of_time() }} else changed_from_date end
            as slice_start
    from {{ ref('int_attendance_changed_slices') }}
    where
        student_id is null
        and (changed_from_date is not null or {{ slice_sync_status() }} = 'rebuild')
        and {{ slice_sync_status() }} <> 'current'
{%- endmacro %}

{#-
    The earliest slice start of this build, as a date literal: every row a slice-incremental
    model recomputes, and every candidate it reads, is dated on or after it. A literal (not a
    subquery) lets DuckDB skip stored rows by their statistics and drop the rest at the scan,
    so an hourly build reads recent days, not the year. The beginning of time outside an
    incremental run, where whole districts are rewritten, and when the model rebuilds
    everything; the end of time when there is nothing to recompute. `days_before` moves it
    that many days earlier.
-#}
{% macro slice_floor(days_before=0) -%}
    {%- if not (execute and is_incremental()) or rewrites_whole_districts() -%}
        {{ return(beginning_of_time() if days_before == 0 else
            'cast(' ~ dbt.dateadd('day', -days_before, beginning_of_time()) ~ ' as date)') }}
    {%- endif -%}
    {%- set floor = run_query(
        'select min(slice_start) from (select slice_start from (' ~ student_slice_changes()
        ~ ') as student_change union all select slice_start from (' ~ district_slice_changes() ~ ') as district_change) as starts'
    ).columns[0].values()[0] -%}
    {%- if floor is none -%}
        {{ return(end_of_time()) }}
    {%- endif -%}
    {%- set day = modules.datetime.date.fromisoformat((floor | string)[:10]) - modules.datetime.timedelta(days=days_before) -%}
    {{ return("cast('" ~ day.isoformat() ~ "' as date)") }}
{%- endmacro %}

{#- Per district, the earliest slice start of `slice_starts`: dates before it need no work. -#}
{% macro district_slice_starts(slice_starts) -%}
    select
        district_id,
        min(slice_start) as slice_start
    from {{ slice_starts }}
    group by district_id
{%- endmacro %}

{#-
    Pre-hook of a slice-incremental model: delete the rows of the changed slices — district-wide
    changes first, then per-student ones — each as a join, never a scan per row. `date_column`
    may be null (a record with an unreadable date): it then belongs to the whole-student slice.
-#}
{% macro delete_changed_slices(student_column='student_id', date_column='attendance_date') -%}
    {#- referenced outside the branch, so dbt sees the dependency when it parses -#}
    {%- set slices = ref('int_attendance_changed_slices') -%}
    {%- if is_incremental() and not rewrites_whole_districts() -%}
        delete from {{ this }} as target
        using (
            {{ district_slice_changes() }}
        ) as changed
        where
            target.district_id = changed.district_id
            and coalesce(target.{{ date_column }}, {{ beginning_of_time() }}) >= changed.slice_start;
        delete from {{ this }} as target
        using (
            {{ student_slice_changes() }}
        ) as changed
        where
            target.district_id = changed.district_id
            and target.{{ student_column }} = changed.student_id
            and coalesce(target.{{ date_column }}, {{ beginning_of_time() }}) >= changed.slice_start
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- on-run-start: the state table exists before any model runs (two models must not both create it). -#}
{% macro create_slice_state_table() -%}
    {%- set state = slice_state_relation() -%}
    {%- if rewrites_whole_districts() %}select 1{% else -%}
    create schema if not exists {{ state.schema }};
    create table if not exists {{ state }} (model_name {{ dbt.type_string() }}, changes_built_at {{ dbt.type_timestamp() }})
    {%- endif %}
{%- endmacro %}

{#- Post-hook of a slice-incremental model: remember which build of the change list it consumed. -#}
{% macro record_consumed_slices() -%}
    {%- set state = slice_state_relation() -%}
    {%- set slices = ref('int_attendance_changed_slices') -%}
    {%- if rewrites_whole_districts() %}select 1{% else -%}
    delete from {{ state }} where model_name = '{{ this.identifier }}';
    insert into {{ state }} select '{{ this.identifier }}', max(built_at) from {{ slices }}
    {%- endif %}
{%- endmacro %}

{#- When this build started: the built_at of every row an incremental model (re)writes in it. -#}
{% macro this_build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#-
    The rows a data test of an incremental model checks (its `where: "__rows_of_this_build__"`,
    filled in by get_where_subquery). In a build `rollcall build` planned for what loads changed
    ($ROLLCALL_PLANNED_BUILD and a selection): the rows this build wrote, by a literal
    timestamp, so DuckDB skips the rest of the table by its statistics. A slice is always deleted
    and written whole, so its keys cannot collide with rows it left alone. Any other build, and
    `dbt test` on its own: every row.
-#}
{% macro rows_of_this_build() -%}
    {%- if execute and flags.WHICH == 'build' and env_var('ROLLCALL_PLANNED_BUILD', '') == 'true' and invocation_args_dict.get('select') -%}
        built_at = {{ this_build_started_at() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
