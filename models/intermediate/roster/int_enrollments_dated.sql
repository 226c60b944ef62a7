-- Enrollments with effective dates: beginDate/endDate as sent, else the bounds of the class's terms.
-- endDate is exclusive (OneRoster): the enrollment covers begin <= day < end. Whether its class and
-- user resolve to current records is flagged here, once: marts and membership use resolved ones.
-- SIS student enrollments (the current sections of the export) join them: the export has no dates
-- and its sections no terms, so they span the district's latest school year (academicSessions.csv
-- sent beside the exports); without one their dates stay null and they count no membership.
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

sis_enrollments as (
    select * from {{ ref('stg_sis__enrollments') }}
),

sis_classes as (
    select distinct
        district_id,
        class_id
    from {{ ref('stg_sis__sections') }}
),

sis_students as (
    select distinct
        district_id,
        student_id
    from {{ ref('stg_sis__students') }}
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

-- the school year an SIS export's current enrollments belong to: the district's latest
school_years as (
    select
        district_id,
        start_date,
        end_date,
        row_number() over (partition by district_id order by start_date desc, end_date desc) as year_rank
    from sessions
    where session_type = 'schoolYear' and start_date < end_date
),

from_oneroster as (
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
        users.user_id is not null as is_user_resolved,
        'oneroster' as source_system
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
),

from_sis as (
    select
        sis_enrollments.district_id,
        sis_enrollments.class_id || ':' || sis_enrollments.student_id as enrollment_id,
        sis_enrollments.class_id,
        sis_enrollments.school_id,
        sis_enrollments.student_id as user_id,
        'student' as enrollment_role,
        cast(null as boolean) as is_primary,
        cast(null as date) as begin_date,
        cast(null as date) as end_date,
        school_years.start_date as effective_begin_date,
        school_years.end_date as effective_end_date,
        true as is_begin_date_inferred,
        true as is_end_date_inferred,
        cast(null as date) as class_terms_start_date,
        cast(null as date) as class_terms_end_date,
        sis_classes.class_id is not null as is_class_resolved,
        sis_students.student_id is not null as is_user_resolved,
        'sis' as source_system
    from sis_enrollments
    left join school_years
        on
            sis_enrollments.district_id = school_years.district_id
            and school_years.year_rank = 1
    left join sis_classes
        on
            sis_enrollments.district_id = sis_classes.district_id
            and sis_enrollments.class_id = sis_classes.class_id
    left join sis_students
        on
            sis_enrollments.district_id = sis_students.district_id
            and sis_enrollments.student_id = sis_students.student_id
),

final as (
    select * from from_oneroster
    union all
    select * from from_sis
)

select * from final
