-- Every person of every roster source as one canonical OneRoster+ user: OneRoster users, and SIS
-- students, teachers, staff and guardians (role guardian / parent / relative from the category).
-- Phone numbers are 10 digits; SIS numbers were normalised and validated by the loader.
with oneroster_users as (
    select * from {{ ref('stg_oneroster__users') }}
    where not is_tombstoned
),

oneroster_roles as (
    select
        district_id,
        user_id,
        user_role,
        org_id,
        row_number() over (
            partition by district_id, user_id
            order by org_rank asc, role_source desc, org_id asc
        ) as role_rank
    from {{ ref('int_user_roles_unioned') }}
),

sis_students as (
    select * from {{ ref('stg_sis__students') }}
),

sis_teachers as (
    select * from {{ ref('stg_sis__teachers') }}
),

sis_staff as (
    select * from {{ ref('stg_sis__staff') }}
),

sis_guardians as (
    select * from {{ ref('int_sis_guardians_unioned') }}
),

from_oneroster as (
    select
        oneroster_users.district_id,
        oneroster_users.user_id,
        'oneroster' as source_system,
        coalesce(oneroster_roles.user_role, oneroster_users.user_role) as user_role,
        oneroster_users.given_name,
        oneroster_users.family_name,
        lower(oneroster_users.email) as email,
        case when length({{ digits_only('oneroster_users.phone') }}) = 10 then {{ digits_only('oneroster_users.phone') }} end
            as phone_digits,
        length({{ digits_only('oneroster_users.phone') }}) = 10 as phone_is_valid,
        case when length({{ digits_only('oneroster_users.sms') }}) = 10 then {{ digits_only('oneroster_users.sms') }} end
            as sms_digits,
        cast(null as {{ dbt.type_string() }}) as alternate_phone_digits,
        cast(null as boolean) as alternate_phone_is_valid,
        'en' as language_code,
        oneroster_roles.org_id as primary_school_id,
        oneroster_users.user_identifier
    from oneroster_users
    left join oneroster_roles
        on
            oneroster_users.district_id = oneroster_roles.district_id
            and oneroster_users.user_id = oneroster_roles.user_id
            and oneroster_roles.role_rank = 1
),

from_sis_students as (
    select
        district_id,
        student_id as user_id,
        'sis' as source_system,
        'student' as user_role,
        first_name as given_name,
        last_name as family_name,
        email,
        phone_digits,
        phone_is_valid,
        cast(null as {{ dbt.type_string() }}) as sms_digits,
        alternate_phone_digits,
        alternate_phone_is_valid,
        language_code,
        school_id as primary_school_id,
        student_id as user_identifier
    from sis_students
),

from_sis_teachers as (
    select
        sis_teachers.district_id,
        sis_teachers.teacher_id as user_id,
        'sis' as source_system,
        'teacher' as user_role,
        sis_teachers.first_name as given_name,
        sis_teachers.last_name as family_name,
        sis_teachers.email,
        sis_staff.phone_digits,
        sis_staff.phone_is_valid,
        cast(null as {{ dbt.type_string() }}) as sms_digits,
        sis_staff.alternate_phone_digits,
        sis_staff.alternate_phone_is_valid,
        coalesce(sis_staff.language_code, 'en') as language_code,
        sis_staff.school_id as primary_school_id,
        sis_teachers.teacher_id as user_identifier
    from sis_teachers
    left join sis_staff
        on
            sis_teachers.district_id = sis_staff.district_id
            and sis_teachers.teacher_id = sis_staff.staff_id
),

from_sis_staff as (
    select
        sis_staff.district_id,
        sis_staff.staff_id as user_id,
        'sis' as source_system,
        'administrator' as user_role,
        sis_staff.first_name as given_name,
        sis_staff.last_name as family_name,
        sis_staff.email,
        sis_staff.phone_digits,
        sis_staff.phone_is_valid,
        cast(null as {{ dbt.type_string() }}) as sms_digits,
        sis_staff.alternate_phone_digits,
        sis_staff.alternate_phone_is_valid,
        sis_staff.language_code,
        sis_staff.school_id as primary_school_id,
        sis_staff.staff_id as user_identifier
    from sis_staff
    left join sis_teachers
        on
            sis_staff.district_id = sis_teachers.district_id
            and sis_staff.staff_id = sis_teachers.teacher_id
    where sis_teachers.teacher_id is null
),

guardian_people as (
    select
        *,
        row_number() over (
            partition by district_id, guardian_id
            order by guardian_layout, student_id
        ) as guardian_rank
    from sis_guardians
),

from_sis_guardians as (
    select
        district_id,
        guardian_id as user_id,
        'sis' as source_system,
        user_role,
        first_name as given_name,
        last_name as family_name,
        email,
        phone_digits,
        phone_is_valid,
        cast(null as {{ dbt.type_string() }}) as sms_digits,
        alternate_phone_digits,
        alternate_phone_is_valid,
        language_code,
        cast(null as {{ dbt.type_string() }}) as primary_school_id,
        guardian_id as user_identifier
    from guardian_people
    where guardian_rank = 1
),

final as (
    select * from from_oneroster
    union all
    select * from from_sis_students
    union all
    select * from from_sis_teachers
    union all
    select * from from_sis_staff
    union all
    select * from from_sis_guardians
)

select * from final
