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

absence_codes as (
    select * from {{ ref('int_absence_codes') }}
    where not is_tombstoned
),

present_codes as (
    select distinct
        district_id,
        absence_code
    from absence_codes
    where absent_value = 0
),

latest_dates as (
    select
        attendance_records.district_id,
        max(attendance_records.attendance_date) as latest_attendance_date,
        count(present_codes.absence_code) > 0 as sends_present_records
    from attendance_records
    left join present_codes
        on
            attendance_records.district_id = present_codes.district_id
            and attendance_records.absence_code = present_codes.absence_code
    group by attendance_records.district_id
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
        {%- endif %} as as_of_date,
        {% if as_of is mapping -%}
            case when district_id in ('{{ as_of.keys() | join("', '") }}') then 'var' else 'latest_attendance' end
        {%- elif as_of -%}
            'var'
        {%- else -%}
            'latest_attendance'
        {%- endif %} as as_of_source,
        latest_attendance_date,
        sends_present_records
    from latest_dates
)

select * from final
