-- Instructional days per school (instructional value > 0; 0.5 = half day), from the first
-- calendar that exists for the school:
--   school    the school's own rows in the OneRoster+ calendar;
--   district  rows sent for the district org (with instructional days), for schools without their own;
--   inferred  weekdays inside the district's school-year sessions, minus the dates the district
--             org's calendar rows mark non-instructional (holidays) — flagged as inferred.
-- Schools are OneRoster school orgs and the schools an SIS export names. When a date is sent twice
-- for the same org, the latest record wins.
with calendar_days as (
    select * from {{ ref('stg_oneroster__calendar_days') }}
    where
        not is_tombstoned
        and calendar_date is not null
        and school_id is not null
),

-- an SIS-only district's calendar.csv names its schools by their SIS codes
orgs as (
    select * from {{ ref('int_orgs_unioned') }}
),

sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned and session_type = 'schoolYear'
),

ranked as (
    select
        *,
        row_number() over (
            partition by district_id, school_id, calendar_date
            order by loaded_at desc, source_row_number desc
        ) as version_rank
    from calendar_days
),

calendar_rows as (
    select
        district_id,
        school_id as org_id,
        calendar_date,
        instructional_value,
        day_type
    from ranked
    where version_rank = 1
),

schools as (
    select
        district_id,
        org_id as school_id
    from orgs
    where org_type = 'school'
),

district_orgs as (
    select
        district_id,
        org_id
    from orgs
    where org_type = 'district'
),

school_calendar_days as (
    select
        calendar_rows.district_id,
        calendar_rows.org_id as school_id,
        calendar_rows.calendar_date,
        calendar_rows.instructional_value,
        calendar_rows.day_type,
        'school' as calendar_source
    from calendar_rows
    inner join schools
        on
            calendar_rows.district_id = schools.district_id
            and calendar_rows.org_id = schools.school_id
),

district_calendar_rows as (
    select calendar_rows.*
    from calendar_rows
    inner join district_orgs
        on
            calendar_rows.district_id = district_orgs.district_id
            and calendar_rows.org_id = district_orgs.org_id
),

schools_with_calendar as (
    select distinct
        district_id,
        school_id
    from school_calendar_days
),

schools_without_calendar as (
    select schools.*
    from schools
    left join schools_with_calendar
        on
            schools.district_id = schools_with_calendar.district_id
            and schools.school_id = schools_with_calendar.school_id
    where schools_with_calendar.school_id is null
),

-- a district calendar counts when it has instructional days; holidays alone only refine the inferred one
districts_with_calendar as (
    select distinct district_id from district_calendar_rows
    where instructional_value > 0
),

district_calendar_days as (
    select
        schools_without_calendar.district_id,
        schools_without_calendar.school_id,
        district_calendar_rows.calendar_date,
        district_calendar_rows.instructional_value,
        district_calendar_rows.day_type,
        'district' as calendar_source
    from schools_without_calendar
    inner join district_calendar_rows
        on schools_without_calendar.district_id = district_calendar_rows.district_id
    inner join districts_with_calendar
        on schools_without_calendar.district_id = districts_with_calendar.district_id
),

school_year_days as (
    select distinct
        district_id,
        {{ unnest_days('start_date', 'end_date') }} as calendar_date
    from sessions
    where start_date < end_date
),

inferred_days as (
    select
        schools_without_calendar.district_id,
        schools_without_calendar.school_id,
        school_year_days.calendar_date,
        cast(1 as decimal(3, 2)) as instructional_value,
        'instructional' as day_type,
        'inferred' as calendar_source
    from schools_without_calendar
    inner join school_year_days
        on schools_without_calendar.district_id = school_year_days.district_id
    left join districts_with_calendar
        on schools_without_calendar.district_id = districts_with_calendar.district_id
    left join district_calendar_rows as holidays
        on
            school_year_days.district_id = holidays.district_id
            and school_year_days.calendar_date = holidays.calendar_date
            and holidays.instructional_value = 0
    where
        districts_with_calendar.district_id is null
        and holidays.calendar_date is null
        and {{ is_weekday('school_year_days.calendar_date') }}
),

unioned as (
    select * from school_calendar_days
    union all
    select * from district_calendar_days
    union all
    select * from inferred_days
),

final as (
    select
        district_id,
        school_id,
        calendar_date,
        instructional_value,
        day_type,
        calendar_source,
        calendar_source = 'inferred' as is_inferred_calendar
    from unioned
    where instructional_value > 0
)

select * from final
