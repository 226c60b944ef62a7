-- The date attendance is complete to, per district: the attendance_as_of_date var when set
-- (one date for every district, or a map of district id to date), else the district's latest
-- attendance date (records dated after the day they were loaded are future-dated and ignored).
-- Membership days are counted up to this date. A district that sends absences only (no present
-- records) should set its date: its latest absence is not its latest school day.
{%- set as_of = var('attendance_as_of_date') %}

with attendance_records as (
    select * from {{ ref('int_attendance_records_unioned') }}
    where
        not is_tombstoned
        and attendance_date <= cast(loaded_at as date)
),

latest_dates as (
    select
        district_id,
        max(attendance_date) as latest_attendance_date
    from attendance_records
    group by district_id
),

final as (
    select
        district_id,
        {% if as_of is mapping -%}
            case district_id
                {%- for district, day in as_of.items() %}
                    when '{{ district }}' then cast('{{ day }}' as date)
                {%- endfor %}
                else latest_attendance_date
            end
        {%- elif as_of -%}
            cast('{{ as_of }}' as date)
        {%- else -%}
            latest_attendance_date
        {%- endif %} as as_of_date
    from latest_dates
)

select * from final
