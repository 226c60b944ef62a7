-- One row per school per district: OneRoster orgs of type school, and the schools SIS exports name.
with orgs as (
    select * from {{ ref('int_orgs_unioned') }}
),

school_days as (
    select * from {{ ref('int_school_days_filtered') }}
),

calendars as (
    select
        district_id,
        school_id,
        count(*) as instructional_day_count,
        sum(instructional_value) as instructional_days
    from school_days
    group by district_id, school_id
),

schools as (
    select * from orgs
    where org_type = 'school'
),

final as (
    select
        {{ skey('k_school', 'schools', school_id='org_id') }} as k_school,
        schools.district_id,
        schools.org_id as school_id,
        schools.org_name as school_name,
        schools.org_identifier as school_identifier,
        schools.parent_org_id,
        parents.org_name as parent_org_name,
        schools.source_system,
        coalesce(calendars.instructional_day_count, 0) as calendar_day_count,
        coalesce(calendars.instructional_days, 0) as calendar_instructional_days,
        calendars.school_id is not null as has_calendar
    from schools
    left join orgs as parents
        on
            schools.district_id = parents.district_id
            and schools.parent_org_id = parents.org_id
    left join calendars
        on
            schools.district_id = calendars.district_id
            and schools.org_id = calendars.school_id
)

select * from final
