-- The date attendance is complete to, per district: the var attendance_as_of_date when set,
-- else the district's latest attendance date (records dated after the day they were loaded
-- are future-dated and ignored). Membership days are counted up to this date.
with attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
    where
        not is_tombstoned
        and attendance_date <= cast(loaded_at as date)
),

final as (
    select
        district_id,
        {% if var('attendance_as_of_date') -%}
            cast('{{ var("attendance_as_of_date") }}' as date)
        {%- else -%}
            max(attendance_date)
        {%- endif %} as as_of_date
    from attendance_records
    group by district_id
)

select * from final
