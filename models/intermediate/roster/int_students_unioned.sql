-- The students of every roster source, one row per student per district: OneRoster users with the
-- student role (CEDS grade, home school, demographics) and the students of SIS exports.
with user_roles as (
    select * from {{ ref('int_user_roles_unioned') }}
    where user_role = 'student'
),

all_users as (
    select * from {{ ref('stg_oneroster__users') }}
    where not is_tombstoned
),

student_ids as (
    select distinct
        district_id,
        user_id
    from user_roles
),

users as (
    select all_users.*
    from all_users
    inner join student_ids
        on
            all_users.district_id = student_ids.district_id
            and all_users.user_id = student_ids.user_id
),

demographics as (
    select * from {{ ref('stg_oneroster__demographics') }}
    where not is_tombstoned
),

grades as (
    select * from {{ ref('int_users_grades_unnested') }}
),

agents as (
    select * from {{ ref('int_users_agents_unnested') }}
),

schools as (
    select * from {{ ref('int_orgs_unioned') }}
    where org_type = 'school'
),

sis_students as (
    select * from {{ ref('stg_sis__students') }}
),

grade_levels as (
    select * from {{ ref('xwalk_grade_levels') }}
),

sis_guardian_counts as (
    select
        district_id,
        student_id,
        count(*) as related_user_count
    from {{ ref('int_user_agents_unioned') }}
    where source_system = 'sis'
    group by district_id, student_id
),

sis_enrollments as (
    select distinct
        district_id,
        student_id
    from {{ ref('stg_sis__enrollments') }}
),

first_grade as (
    select
        district_id,
        user_id,
        min(ceds_grade_level) as ceds_grade_level,
        count(*) as grade_count
    from grades
    group by district_id, user_id
),

primary_school as (
    select
        user_roles.district_id,
        user_roles.user_id,
        user_roles.org_id as primary_school_id,
        row_number() over (
            partition by user_roles.district_id, user_roles.user_id
            order by user_roles.org_rank, user_roles.org_id
        ) as school_rank
    from user_roles
    inner join schools
        on
            user_roles.district_id = schools.district_id
            and user_roles.org_id = schools.org_id
),

student_enrollments as (
    select distinct
        district_id,
        user_id
    from {{ ref('int_enrollments_dated') }}
    where enrollment_role = 'student'
),

agent_counts as (
    select
        district_id,
        user_id,
        count(*) as agent_count
    from agents
    group by district_id, user_id
),

oneroster_students as (
    select
        users.district_id,
        users.user_id as student_id,
        users.user_identifier as student_identifier,
        users.username,
        users.given_name,
        users.middle_name,
        users.family_name,
        users.preferred_given_name,
        users.preferred_family_name,
        users.email,
        users.sms,
        users.phone,
        users.is_enabled_user,
        first_grade.ceds_grade_level as grade_level,
        coalesce(first_grade.grade_count, 0) > 1 as has_multiple_grades,
        primary_school.primary_school_id,
        coalesce(agent_counts.agent_count, 0) as related_user_count,
        demographics.birth_date,
        demographics.sex,
        demographics.is_american_indian_or_alaska_native,
        demographics.is_asian,
        demographics.is_black_or_african_american,
        demographics.is_native_hawaiian_or_other_pacific_islander,
        demographics.is_white,
        demographics.is_two_or_more_races,
        demographics.is_hispanic_or_latino,
        demographics.user_id is not null as has_demographics,
        student_enrollments.user_id is not null as has_student_enrollment
    from users
    left join first_grade
        on
            users.district_id = first_grade.district_id
            and users.user_id = first_grade.user_id
    left join primary_school
        on
            users.district_id = primary_school.district_id
            and users.user_id = primary_school.user_id
            and primary_school.school_rank = 1
    left join agent_counts
        on
            users.district_id = agent_counts.district_id
            and users.user_id = agent_counts.user_id
    left join demographics
        on
            users.district_id = demographics.district_id
            and users.user_id = demographics.user_id
    left join student_enrollments
        on
            users.district_id = student_enrollments.district_id
            and users.user_id = student_enrollments.user_id
),

sis_final as (
    select
        sis_students.district_id,
        sis_students.student_id,
        sis_students.student_id as student_identifier,
        cast(null as {{ dbt.type_string() }}) as username,
        sis_students.first_name as given_name,
        cast(null as {{ dbt.type_string() }}) as middle_name,
        sis_students.last_name as family_name,
        cast(null as {{ dbt.type_string() }}) as preferred_given_name,
        cast(null as {{ dbt.type_string() }}) as preferred_family_name,
        sis_students.email,
        cast(null as {{ dbt.type_string() }}) as sms,
        sis_students.phone_as_sent as phone,
        true as is_enabled_user,
        grade_levels.ceds_grade_level as grade_level,
        false as has_multiple_grades,
        sis_students.school_id as primary_school_id,
        coalesce(sis_guardian_counts.related_user_count, 0) as related_user_count,
        sis_students.birth_date,
        case upper(sis_students.gender) when 'F' then 'female' when 'M' then 'male' end as sex,
        cast(null as boolean) as is_american_indian_or_alaska_native,
        cast(null as boolean) as is_asian,
        cast(null as boolean) as is_black_or_african_american,
        cast(null as boolean) as is_native_hawaiian_or_other_pacific_islander,
        cast(null as boolean) as is_white,
        cast(null as boolean) as is_two_or_more_races,
        cast(null as boolean) as is_hispanic_or_latino,
        false as has_demographics,
        sis_enrollments.student_id is not null as has_student_enrollment
    from sis_students
    left join grade_levels
        on lower(sis_students.grade_level) = grade_levels.source_grade
    left join sis_guardian_counts
        on
            sis_students.district_id = sis_guardian_counts.district_id
            and sis_students.student_id = sis_guardian_counts.student_id
    left join sis_enrollments
        on
            sis_students.district_id = sis_enrollments.district_id
            and sis_students.student_id = sis_enrollments.student_id
),

final as (
    select
        *,
        'oneroster' as source_system
    from oneroster_students
    union all
    select
        *,
        'sis' as source_system
    from sis_final
)

select * from final
