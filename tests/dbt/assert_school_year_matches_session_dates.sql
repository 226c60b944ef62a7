-- What: an academic session's schoolYear is the year in which its school year ends — the
--   session's dates fall between 1 July of the year before and 31 August of schoolYear
--   (summer terms included), and it ends after it starts.
-- When it matters: sessions filed under the wrong school year put terms in the wrong year's
--   reports.
-- How to fix: correct schoolYear (YYYY of the year the school year ends) or the dates.
{{ config(severity = 'warn') }}

with sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned
),

final as (
    select
        district_id,
        academic_session_id,
        session_type,
        start_date,
        end_date,
        school_year
    from sessions
    where
        school_year is not null
        and (
            start_date < {{ date_from_parts('school_year - 1', 7, 1) }}
            or end_date > {{ date_from_parts('school_year', 9, 1) }}
            or end_date <= start_date
        )
)

select * from final
