-- The school year cut into segments: a segment is the days of one week that lie in the same
-- academic sessions (a session boundary inside a week splits it). One row per district and
-- day of any session, with its segment. Sums per segment add up to sums per session, and a new
-- day changes only the sums of its week's segment. Days in the same sessions share a session set,
-- so segment sums can be added up per set first and spread to the set's sessions after.
with sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned and start_date < end_date
),

session_days as (
    select
        district_id,
        academic_session_id,
        {{ unnest_days('start_date', 'end_date') }} as calendar_date
    from sessions
),

day_session_sets as (
    select
        district_id,
        calendar_date,
        {{ dbt.date_trunc('week', 'calendar_date') }} as week_start,
        {{ dbt.listagg('academic_session_id', "'|'", 'order by academic_session_id') }} as session_set
    from session_days
    group by district_id, calendar_date
),

segmented as (
    select
        district_id,
        calendar_date,
        {{ dbt.hash(dbt.concat(['cast(week_start as ' ~ dbt.type_string() ~ ')', "':'", 'session_set'])) }}
            as segment_id,
        {{ dbt.hash('session_set') }} as session_set_id
    from day_session_sets
),

final as (
    select
        district_id,
        calendar_date,
        segment_id,
        session_set_id,
        min(calendar_date) over (partition by district_id, segment_id) as segment_first_date,
        max(calendar_date) over (partition by district_id, segment_id) as segment_last_date
    from segmented
)

select * from final
