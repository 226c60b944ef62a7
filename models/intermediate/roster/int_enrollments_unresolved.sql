-- One row per reference of a current enrollment that does not resolve to a current record of its
-- district: its class (classSourcedId) or its user (userSourcedId). Such enrollments stay out of
-- the marts (core.fct_enrollments) and are listed in quality.fct_unresolved_references.
with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
),

classes as (
    select * from {{ ref('stg_oneroster__classes') }}
    where not is_tombstoned
),

users as (
    select * from {{ ref('stg_oneroster__users') }}
    where not is_tombstoned
),

unresolved_classes as (
    select
        enrollments.district_id,
        enrollments.enrollment_id,
        'classSourcedId' as reference_field,
        enrollments.class_id as referenced_id,
        'classes' as referenced_entity
    from enrollments
    left join classes
        on
            enrollments.district_id = classes.district_id
            and enrollments.class_id = classes.class_id
    where classes.class_id is null
),

unresolved_users as (
    select
        enrollments.district_id,
        enrollments.enrollment_id,
        'userSourcedId' as reference_field,
        enrollments.user_id as referenced_id,
        'users' as referenced_entity
    from enrollments
    left join users
        on
            enrollments.district_id = users.district_id
            and enrollments.user_id = users.user_id
    where users.user_id is null
)

select * from unresolved_classes
union all
select * from unresolved_users
