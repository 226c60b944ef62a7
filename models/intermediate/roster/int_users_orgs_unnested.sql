-- Bridge: one row per user and org they belong to (users.orgSourcedIds), in list order.
with users as (
    select * from {{ ref('stg_oneroster__users') }}
),

unnested as (
    select
        district_id,
        user_id,
        {{ unnest_list_with_position('org_ids', 'org_id', 'org_position') }}
    from users
    where not is_tombstoned
),

final as (
    select
        district_id,
        user_id,
        org_id,
        min(org_position) as org_position
    from unnested
    group by district_id, user_id, org_id
)

select * from final
