-- Bridge: one row per user and related user (users.agentSourcedIds), e.g. student -> guardian.
with users as (
    select * from {{ ref('stg_oneroster__users') }}
),

unnested as (
    select
        district_id,
        user_id,
        {{ unnest_list('agent_user_ids') }} as agent_user_id
    from users
    where not is_tombstoned
),

final as (
    select distinct
        district_id,
        user_id,
        agent_user_id
    from unnested
)

select * from final
