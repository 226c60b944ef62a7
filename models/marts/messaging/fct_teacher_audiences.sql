-- Who a teacher may message on the messaging date: the students of every class the teacher is
-- rostered to that day, and those students' guardians, parents and relatives - only contact
-- points that are valid and not opted out, with the recipient's language.
-- Incremental: only the classes whose roster changed, and the districts whose contacts,
-- guardians or teachers changed, are rewritten (macros/incremental/audience_inputs.sql).
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_audiences() }}",
    post_hook="{{ record_audience_inputs() }}",
    **incremental_config('append')
) }}

with rosters as (
    {{ audience_rosters_to_build(ref('int_class_rosters_current')) }}
),

agents as (
    select * from {{ ref('int_user_agents_unioned') }}
),

contacts as (
    select * from {{ ref('dim_contacts') }}
    where is_contactable
),

teacher_users as (
    -- only teachers whose own record landed: a teacher id the SIS sent for two people is unknown
    select * from {{ ref('int_users_unioned') }}
    where user_role = 'teacher'
),

teachers as (
    select
        rosters.district_id,
        rosters.class_id,
        rosters.school_id,
        rosters.user_id as teacher_id
    from rosters
    inner join teacher_users
        on
            rosters.district_id = teacher_users.district_id
            and rosters.user_id = teacher_users.user_id
    where rosters.roster_role = 'teacher'
),

students as (
    select
        district_id,
        class_id,
        user_id as student_id
    from rosters
    where roster_role = 'student'
),

recipients as (
    select
        teachers.district_id,
        teachers.teacher_id,
        teachers.class_id,
        teachers.school_id,
        students.student_id,
        students.student_id as recipient_user_id,
        'student' as recipient_relationship
    from teachers
    inner join students
        on
            teachers.district_id = students.district_id
            and teachers.class_id = students.class_id
    union all
    select
        teachers.district_id,
        teachers.teacher_id,
        teachers.class_id,
        teachers.school_id,
        students.student_id,
        agents.related_user_id as recipient_user_id,
        coalesce(agents.relationship, agents.related_user_role) as recipient_relationship
    from teachers
    inner join students
        on
            teachers.district_id = students.district_id
            and teachers.class_id = students.class_id
    inner join agents
        on
            students.district_id = agents.district_id
            and students.student_id = agents.student_id
),

final as (
    select
        {{ skey('k_teacher_audience', 'recipients', k_contact='contacts.k_contact') }} as k_teacher_audience,
        recipients.district_id,
        recipients.teacher_id,
        recipients.class_id,
        recipients.school_id,
        recipients.student_id,
        recipients.recipient_user_id,
        contacts.user_role as recipient_role,
        recipients.recipient_relationship,
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
