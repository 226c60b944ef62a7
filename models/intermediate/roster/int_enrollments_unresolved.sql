-- One row per reference of a current enrollment that does not resolve to a current record of its
-- district: its class (classSourcedId) or its user (userSourcedId). Such enrollments stay out of
-- the marts (core.fct_enrollments, and membership in the attendance marts) and are listed in
-- quality.fct_unresolved_references.
with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
),

unresolved_classes as (
    select
        district_id,
        enrollment_id,
        'classSourcedId' as reference_field,
        class_id as referenced_id,
        'classes' as referenced_entity
    from enrollments
    where not is_class_resolved
),

unresolved_users as (
    select
        district_id,
        enrollment_id,
        'userSourcedId' as reference_field,
        user_id as referenced_id,
        'users' as referenced_entity
    from enrollments
    where not is_user_resolved
)

select * from unresolved_classes
union all
select * from unresolved_users
