-- One row per user, role and org from both OneRoster versions: users.role with each of
-- users.orgSourcedIds (1.1), and roles.csv (1.2, where users.csv has no role or orgs).
-- The primary org of a user is the first org listed (1.1) or the primary role's org (1.2).
with users as (
    select * from {{ ref('stg_oneroster__users') }}
    where not is_tombstoned
),

user_orgs as (
    select * from {{ ref('int_users_orgs_unnested') }}
),

roles as (
    select * from {{ ref('stg_oneroster__roles') }}
    where not is_tombstoned
),

from_users as (
    select
        users.district_id,
        users.user_id,
        users.user_role,
        user_orgs.org_id,
        coalesce(user_orgs.list_position, 1) as org_rank,
        'users.csv' as role_source
    from users
    left join user_orgs
        on
            users.district_id = user_orgs.district_id
            and users.user_id = user_orgs.user_id
    where users.user_role is not null
),

from_roles as (
    select
        district_id,
        user_id,
        user_role,
        org_id,
        case when role_type = 'primary' then 1 else 2 end as org_rank,
        'roles.csv' as role_source
    from roles
),

unioned as (
    select * from from_users
    union all
    select * from from_roles
),

final as (
    select
        district_id,
        user_id,
        user_role,
        org_id,
        min(org_rank) as org_rank,
        min(role_source) as role_source
    from unioned
    group by district_id, user_id, user_role, org_id
)

select * from final
