-- Building-level audiences: every contactable student of a school (home school) and every
-- contactable guardian, parent or relative of those students, with language.
with users as (
    select * from {{ ref('int_users_unioned') }}
),

agents as (
    select * from {{ ref('int_user_agents_unioned') }}
),

contacts as (
    select * from {{ ref('dim_contacts') }}
    where is_contactable
),

students as (
    select
        district_id,
        user_id as student_id,
        primary_school_id as school_id
    from users
    where user_role = 'student' and primary_school_id is not null
),

recipients as (
    select
        district_id,
        school_id,
        student_id as recipient_user_id,
        'student' as audience
    from students
    union
    select
        students.district_id,
        students.school_id,
        agents.related_user_id as recipient_user_id,
        'family' as audience
    from students
    inner join agents
        on
            students.district_id = agents.district_id
            and students.student_id = agents.student_id
),

final as (
    select
        {{ skey('k_school_audience', 'recipients', k_contact='contacts.k_contact') }} as k_school_audience,
        recipients.district_id,
        recipients.school_id,
        recipients.audience,
        recipients.recipient_user_id,
        contacts.user_role as recipient_role,
        contacts.channel,
        contacts.contact_point,
        contacts.language_code
    from recipients
    inner join contacts
        on
            recipients.district_id = contacts.district_id
            and recipients.recipient_user_id = contacts.user_id
)

select * from final
