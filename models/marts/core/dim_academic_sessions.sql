-- One row per academic session (school year, semester, term, grading period) per district.
with sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned
),

as_of_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

final as (
    select
        {{ skey('k_academic_session', 'sessions') }} as k_academic_session,
        sessions.district_id,
        sessions.academic_session_id,
        sessions.session_title,
        sessions.session_type,
        sessions.start_date,
        sessions.end_date,
        {{ dbt.dateadd('day', -1, 'sessions.end_date') }} as last_date,
        sessions.parent_academic_session_id,
        sessions.school_year,
        coalesce(
            as_of_dates.as_of_date >= sessions.start_date and as_of_dates.as_of_date < sessions.end_date,
            false
        ) as is_current
    from sessions
    left join as_of_dates
        on sessions.district_id = as_of_dates.district_id
)

select * from final
