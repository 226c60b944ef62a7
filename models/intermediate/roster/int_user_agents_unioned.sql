-- One row per student and related person (guardian, parent, relative) across sources:
-- OneRoster agentSourcedIds (listed on either side) and the SIS guardian layouts.
with users as (
    select * from {{ ref('int_users_unioned') }}
),

oneroster_agents as (
    select * from {{ ref('int_users_agents_unnested') }}
),

sis_guardians as (
    select * from {{ ref('int_sis_guardians_unioned') }}
),

oneroster_pairs as (
    select
        oneroster_agents.district_id,
        case when holder.user_role = 'student' then oneroster_agents.user_id else oneroster_agents.agent_user_id end
            as student_id,
        case when holder.user_role = 'student' then oneroster_agents.agent_user_id else oneroster_agents.user_id end
            as related_user_id,
        cast(null as {{ dbt.type_string() }}) as relationship,
        'oneroster' as source_system
    from oneroster_agents
    inner join users as holder
        on
            oneroster_agents.district_id = holder.district_id
            and oneroster_agents.user_id = holder.user_id
            and holder.source_system = 'oneroster'
),

sis_pairs as (
    select
        district_id,
        student_id,
        guardian_id as related_user_id,
        category as relationship,
        'sis' as source_system
    from sis_guardians
),

unioned as (
    select * from oneroster_pairs
    union all
    select * from sis_pairs
),

final as (
    select
        unioned.district_id,
        unioned.student_id,
        unioned.related_user_id,
        max(unioned.relationship) as relationship,
        max(related.user_role) as related_user_role,
        min(unioned.source_system) as source_system
    from unioned
    inner join users as student
        on
            unioned.district_id = student.district_id
            and unioned.student_id = student.user_id
            and student.user_role = 'student'
    inner join users as related
        on
            unioned.district_id = related.district_id
            and unioned.related_user_id = related.user_id
            and related.user_role in ('guardian', 'parent', 'relative')
    group by unioned.district_id, unioned.student_id, unioned.related_user_id
)

select * from final
