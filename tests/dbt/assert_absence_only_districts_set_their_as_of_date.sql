-- What: a district that sends absences only (no record with a present code) has its as-of date
--   set by the attendance_as_of_date var.
-- When it matters: membership days are counted up to the as-of date, by default the district's
--   latest attendance date; when only absences are sent, the latest absence is not the latest
--   school day, so every day after it would be left out of membership and the rates overstated.
-- How to fix: build with --vars '{attendance_as_of_date: {<district id>: YYYY-MM-DD}}' (the last
--   school day the export covers), or send present records too.
{{ config(severity = 'warn') }}

with as_of_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

final as (
    select
        district_id,
        latest_attendance_date
    from as_of_dates
    where not sends_present_records and as_of_source = 'latest_attendance'
)

select * from final
