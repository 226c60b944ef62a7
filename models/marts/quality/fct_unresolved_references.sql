-- Records left out of the marts because a reference does not resolve (an enrollment of an unknown
-- or removed class or user), one row per unresolved reference.
with unresolved as (
    select * from {{ ref('int_enrollments_unresolved') }}
),

final as (
    select
        district_id,
        'enrollments' as entity,
        enrollment_id as record_id,
        reference_field,
        referenced_entity,
        referenced_id,
        'core.fct_enrollments' as left_out_of
    from unresolved
)

select * from final
