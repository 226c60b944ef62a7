-- Instructional days per school from the OneRoster+ calendar: days with an instructional value > 0
-- (1 = full day, 0.5 = half day). When a school sends two records for one date, the latest wins.
with calendar_days as (
    select * from {{ ref('stg_oneroster__calendar_days') }}
    where
        not is_tombstoned
        and calendar_date is not null
        and school_id is not null
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

final as (
    select
        district_id,
        school_id,
        calendar_date,
        instructional_value,
        day_type
    from ranked
    where version_rank = 1 and instructional_value > 0
)

select * from final
