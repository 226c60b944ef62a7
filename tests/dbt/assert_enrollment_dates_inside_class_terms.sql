-- What: an enrollment's beginDate/endDate lie inside the span of its class's terms
--   (OneRoster 1.1: "this date must align with the associated academic session").
-- When it matters: membership days outside the class's terms inflate or shift absence rates.
-- How to fix: correct the enrollment dates, or the class's termSourcedIds.
{{ config(severity = 'warn') }}

with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
),

final as (
    select
        district_id,
        enrollment_id,
        class_id,
        begin_date,
        end_date,
        class_terms_start_date,
        class_terms_end_date
    from enrollments
    where
        begin_date < class_terms_start_date
        or begin_date >= class_terms_end_date
        or end_date > class_terms_end_date
        or end_date <= class_terms_start_date
)

select * from final
