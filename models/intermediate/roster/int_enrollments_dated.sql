-- Enrollments with effective dates: beginDate/endDate as sent, else the bounds of the class's terms.
-- endDate is exclusive (OneRoster): the enrollment covers begin <= day < end. Whether its class and
-- user resolve to current records is flagged here, once: marts and membership use resolved ones.
with enrollments as (
    select * from {{ ref('stg_oneroster__enrollments') }}
    where not is_tombstoned
),

classes as (
    select * from {{ ref('stg_oneroster__classes') }}
    where not is_tombstoned
),

users as (
    select * from {{ ref('stg_oneroster__users') }}
    where not is_tombstoned
),

class_terms as (
    select * from {{ ref('int_classes_terms_unnested') }}
),

sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned
),

class_term_bounds as (
    select
        class_terms.district_id,
        class_terms.class_id,
        min(sessions.start_date) as terms_start_date,
        max(sessions.end_date) as terms_end_date
    from class_terms
    inner join sessions
        on
            class_terms.district_id = sessions.district_id
            and class_terms.academic_session_id = sessions.academic_session_id
    group by class_terms.district_id, class_terms.class_id
),

final as (
    select
        enrollments.district_id,
        enrollments.enrollment_id,
        enrollments.class_id,
        enrollments.school_id,
        enrollments.user_id,
        enrollments.enrollment_role,
        enrollments.is_primary,
        enrollments.begin_date,
        enrollments.end_date,
        coalesce(enrollments.begin_date, class_term_bounds.terms_start_date) as effective_begin_date,
        coalesce(enrollments.end_date, class_term_bounds.terms_end_date) as effective_end_date,
        enrollments.begin_date is null as is_begin_date_inferred,
        enrollments.end_date is null as is_end_date_inferred,
        class_term_bounds.terms_start_date as class_terms_start_date,
        class_term_bounds.terms_end_date as class_terms_end_date,
        classes.class_id is not null as is_class_resolved,
        users.user_id is not null as is_user_resolved
    from enrollments
    left join class_term_bounds
        on
            enrollments.district_id = class_term_bounds.district_id
            and enrollments.class_id = class_term_bounds.class_id
    left join classes
        on
            enrollments.district_id = classes.district_id
            and enrollments.class_id = classes.class_id
    left join users
        on
            enrollments.district_id = users.district_id
            and enrollments.user_id = users.user_id
)

select * from final
