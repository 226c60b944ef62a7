-- What: an enrollment's beginDate/endDate lie inside the span of its class's terms
--   (OneRoster 1.1: "this date must align with the associated academic session").
-- When it matters: membership days outside the class's terms inflate or shift absence rates.
-- How to fix: correct the enrollment dates, or the class's termSourcedIds.
{{ config(severity = 'warn') }}

with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
),

class_terms as (
    select * from {{ ref('int_classes_terms_unnested') }}
),

sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned
),

class_spans as (
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
        enrollments.begin_date,
        enrollments.end_date,
        class_spans.terms_start_date,
        class_spans.terms_end_date
    from enrollments
    inner join class_spans
        on
            enrollments.district_id = class_spans.district_id
            and enrollments.class_id = class_spans.class_id
    where
        enrollments.begin_date < class_spans.terms_start_date
        or enrollments.begin_date >= class_spans.terms_end_date
        or enrollments.end_date > class_spans.terms_end_date
        or enrollments.end_date <= class_spans.terms_start_date
)

select * from final
