{#-
    Incremental teacher audiences (docs/performance.md). An audience row depends on its class's
    roster and on its district's contacts, guardians and teachers. audit.teacher_audience_inputs
    keeps a hash of each as the audiences were last built: one row per class (its roster) and one
    per district with no class (the rest). A build compares them with the inputs now and rewrites
    only the classes whose roster changed, and whole districts whose other inputs changed, so a
    new school day that moves a few students rewrites their classes, not the district. The
    comparison is with what the audiences were built from, so it holds whatever ran in between.
    Where incremental models rewrite whole districts (Spark) every run rewrites them all.
-#}

{% macro audience_inputs_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema='audit', identifier='teacher_audience_inputs')) }}
{%- endmacro %}

{#- The classes and districts the pre-hook found changed (kept for the model's query). -#}
{% macro audience_changes_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema='audit', identifier='teacher_audience_changes')) }}
{%- endmacro %}

{#- True where this run rewrites only what changed: DuckDB, an incremental run, inputs recorded. -#}
{% macro audiences_by_change() -%}
    {%- if not execute or not is_incremental() or rewrites_whole_districts() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set state = audience_inputs_relation() -%}
    {{ return(adapter.get_relation(database=state.database, schema=state.schema, identifier=state.identifier) is not none) }}
{%- endmacro %}

{#- The inputs now: district_id, class_id (null for the district's contacts, guardians and
    teachers) and a hash of the rows, independent of their order. -#}
{% macro audience_input_hashes() -%}
    select
        district_id,
        class_id,
        cast(sum({{ row_hash(['school_id', 'user_id', 'roster_role', 'source_system']) }}) as {{ dbt.type_string() }})
            as input_hash
    from {{ ref('int_class_rosters_current') }}
    group by district_id, class_id
    union all
    select
        district_id,
        cast(null as {{ dbt.type_string() }}) as class_id,
        cast(sum(row_hash) as {{ dbt.type_string() }}) as input_hash
    from (
        select
            district_id,
            {{ row_hash(["'contact'", 'k_contact', 'user_id', 'user_role', 'channel', 'contact_point', 'language_code']) }}
                as row_hash
        from {{ ref('dim_contacts') }}
        where is_contactable
        union all
        select
            district_id,
            {{ row_hash(["'agent'", 'student_id', 'related_user_id', 'relationship', 'related_user_role']) }}
        from {{ ref('int_user_agents_unioned') }}
        union all
        select
            district_id,
            {{ row_hash(["'teacher'", 'user_id']) }}
        from {{ ref('int_users_unioned') }}
        where user_role = 'teacher'
    ) as district_inputs
    group by district_id
{%- endmacro %}

{#-
    Pre-hook: which classes (and, with no class, whole districts) to rewrite — every input hash
    that differs from the recorded one either way — then delete their rows.
-#}
{% macro delete_changed_audiences() -%}
    {%- if audiences_by_change() -%}
        {%- set state = audience_inputs_relation() -%}
        create or replace table {{ audience_changes_relation() }} as
        with inputs_now as {{ materialized_cte() }} (
            {{ audience_input_hashes() }}
        )
        select distinct district_id, class_id
        from (
            (select district_id, class_id, input_hash from inputs_now
                except select district_id, class_id, input_hash from {{ state }})
            union all
            (select district_id, class_id, input_hash from {{ state }}
                except select district_id, class_id, input_hash from inputs_now)
        ) as changed;
        delete from {{ this }} as target
        using {{ audience_changes_relation() }} as changed
        where target.district_id = changed.district_id and changed.class_id is null;
        delete from {{ this }} as target
        using {{ audience_changes_relation() }} as changed
        where target.district_id = changed.district_id and target.class_id = changed.class_id
    {%- elif execute and is_incremental() and not rewrites_whole_districts() -%}
        {#- no inputs recorded: rewrite everything -#}
        delete from {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The rosters a run rewrites: the changed classes and districts (everything in a full run). -#}
{% macro audience_rosters_to_build(rosters) -%}
    select * from {{ rosters }}
    {%- if audiences_by_change() %}
        where
            district_id in (select district_id from {{ audience_changes_relation() }} where class_id is null)
            or (district_id, class_id) in (
                select district_id, class_id from {{ audience_changes_relation() }} where class_id is not null
            )
    {%- endif %}
{%- endmacro %}

{#- Post-hook: record the inputs the audiences now stand on. -#}
{% macro record_audience_inputs() -%}
    {%- if rewrites_whole_districts() -%}
        select 1
    {%- else -%}
        {%- set state = audience_inputs_relation() -%}
        create schema if not exists {{ state.schema }};
        create or replace table {{ state }} as {{ audience_input_hashes() }};
        drop table if exists {{ audience_changes_relation() }}
    {%- endif -%}
{%- endmacro %}
