-- One row per student record of every source taking part in identity resolution, with the
-- attributes the match rules compare, as each source sent them.
with user_roles as (
    select * from {{ ref('int_user_roles_unioned') }}
),

oneroster_users as (
    select * from {{ ref('stg_oneroster__users') }}
    where not is_tombstoned
),

oneroster_demographics as (
    select * from {{ ref('stg_oneroster__demographics') }}
    where not is_tombstoned
),

oneroster_identifiers as (
    select * from {{ ref('int_users_identifiers_unnested') }}
),

sis_students as (
    select * from {{ ref('stg_sis__students') }}
),

powerschool_students as (
    select * from {{ ref('stg_powerschool__students') }}
),

classlink_users as (
    select * from {{ ref('stg_classlink__users') }}
),

star_assessments as (
    select * from {{ ref('stg_star__assessments') }}
),

oneroster_student_ids as (
    select distinct
        district_id,
        user_id
    from user_roles
    where user_role = 'student'
),

-- A state id sent in users.userIds as {State:...}, {StateID:...}, {SSID:...}.
oneroster_state_ids as (
    select
        district_id,
        user_id,
        min(identifier_value) as state_id
    from oneroster_identifiers
    where
        replace(replace(lower(identifier_type), ' ', ''), '_', '')
        in ('state', 'stateid', 'ssid', 'statestudentid', 'statestudentnumber')
    group by district_id, user_id
),

from_oneroster as (
    select
        oneroster_users.district_id,
        'oneroster' as source_system,
        oneroster_users.user_id as source_record_id,
        oneroster_users.user_identifier as student_number,
        oneroster_state_ids.state_id,
        oneroster_users.email,
        oneroster_users.given_name as first_name,
        oneroster_users.family_name as last_name,
        oneroster_demographics.birth_date
    from oneroster_users
    inner join oneroster_student_ids
        on
            oneroster_users.district_id = oneroster_student_ids.district_id
            and oneroster_users.user_id = oneroster_student_ids.user_id
    left join oneroster_demographics
        on
            oneroster_users.district_id = oneroster_demographics.district_id
            and oneroster_users.user_id = oneroster_demographics.user_id
    left join oneroster_state_ids
        on
            oneroster_users.district_id = oneroster_state_ids.district_id
            and oneroster_users.user_id = oneroster_state_ids.user_id
),

from_sis as (
    select
        district_id,
        'sis' as source_system,
        student_id as source_record_id,
        student_id as student_number,
        state_id,
        email,
        first_name,
        last_name,
        birth_date
    from sis_students
),

from_powerschool as (
    select
        district_id,
        'powerschool' as source_system,
        student_number as source_record_id,
        student_number,
        state_id,
        email,
        first_name,
        last_name,
        birth_date
    from powerschool_students
),

from_classlink as (
    select
        district_id,
        'classlink' as source_system,
        user_id as source_record_id,
        student_number,
        state_id,
        email,
        first_name,
        last_name,
        cast(null as date) as birth_date
    from classlink_users
    where user_role = 'student'
),

-- Star repeats the student on every assessment: the attributes of the latest one count.
star_students_ranked as (
    select
        *,
        row_number() over (
            partition by district_id, student_identifier
            order by completed_at desc nulls last, loaded_at desc, source_row_number desc
        ) as attribute_rank
    from star_assessments
),

from_star as (
    select
        district_id,
        'star' as source_system,
        student_identifier as source_record_id,
        student_identifier as student_number,
        student_state_id as state_id,
        student_email as email,
        first_name,
        last_name,
        birth_date
    from star_students_ranked
    where attribute_rank = 1
),

final as (
    select * from from_oneroster
    union all
    select * from from_sis
    union all
    select * from from_powerschool
    union all
    select * from from_classlink
    union all
    select * from from_star
)

select * from final
