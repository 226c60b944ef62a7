-- One row per enrollment of a user in a class, with effective dates (endDate exclusive); enrollments
-- whose class or user does not resolve are left out (quality.fct_unresolved_references). OneRoster
-- enrollments only: SIS sections are not dim_classes classes (their enrollments count membership
-- through int_enrollments_dated, and rosters through messaging).
with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
    where source_system = 'oneroster'
),

as_of_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

unresolved as (
    select * from {{ ref('int_enrollments_unresolved') }}
),

final as (
    select
        {{ skey('k_enrollment', 'enrollments') }} as k_enrollment,
        {{ skey('k_class', 'enrollments') }} as k_class,
        {{ skey('k_school', 'enrollments') }} as k_school,
        {{ skey('k_user', 'enrollments') }} as k_user,
        enrollments.district_id,
        enrollments.enrollment_id,
        enrollments.class_id,
        enrollments.school_id,
        enrollments.user_id,
        enrollments.enrollment_role,
        coalesce(enrollments.is_primary, false) as is_primary,
        enrollments.begin_date,
        enrollments.end_date,
        enrollments.effective_begin_date,
        enrollments.effective_end_date,
        enrollments.is_begin_date_inferred,
        enrollments.is_end_date_inferred,
        coalesce(
            as_of_dates.as_of_date >= enrollments.effective_begin_date
            and (enrollments.effective_end_date is null or as_of_dates.as_of_date < enrollments.effective_end_date),
            false
        ) as is_active_on_as_of_date
    from enrollments
    left join as_of_dates
        on enrollments.district_id = as_of_dates.district_id
    -- an enrollment of a class or user that does not resolve is left out (quality.fct_unresolved_references)
    where not exists (
        select 1 from unresolved
        where
            unresolved.district_id = enrollments.district_id
            and unresolved.enrollment_id = enrollments.enrollment_id
    )
)

select * from final
