-- Baseline for `make bench-scale`: one hand-written DuckDB query from a generated OneRoster+
-- package's CSVs straight to student x school x academic session absence rates and chronic
-- flags, under rollcall's documented rules (README "Attendance rules") for a district that sends
-- every file: school calendars, dated enrollments, daily and period attendance, one district.
-- Run with the package folder as getvariable('package'); the result must equal
-- attendance.fct_student_absence_rates.
create or replace temp table baseline_rates as
with
calendar as (
    select "schoolSourcedId" as school_id, cast("date" as date) as day,
           cast("instructionalValue" as decimal(3, 2)) as instructional_value
    from read_csv(getvariable('package') || '/calendar.csv', all_varchar = true)
    where cast("instructionalValue" as decimal(3, 2)) > 0
),
codes as (
    select code, cast("absentValue" as decimal(5, 4)) as absent_value, category
    from read_csv(getvariable('package') || '/absenceCodes.csv', all_varchar = true)
),
sessions as (
    select "sourcedId" as session_id, cast("startDate" as date) as start_date, cast("endDate" as date) as end_date
    from read_csv(getvariable('package') || '/academicSessions.csv', all_varchar = true)
),
attendance as (
    select "userSourcedId" as student_id, "schoolSourcedId" as school_id, cast("date" as date) as day,
           nullif("classSourcedId", '') is null as is_daily, "absenceCode" as code
    from read_csv(getvariable('package') || '/attendance.csv', all_varchar = true)
),
-- the file is read twice (here for its last day) rather than kept: at a million students its 485
-- million records would be written to disk
as_of as (
    select max(cast("date" as date)) as as_of_date
    from read_csv(getvariable('package') || '/attendance.csv', all_varchar = true)
),
spans as (
    select distinct "userSourcedId" as student_id, "schoolSourcedId" as school_id,
           cast("beginDate" as date) as begin_date, cast("endDate" as date) as end_date
    from read_csv(getvariable('package') || '/enrollments.csv', all_varchar = true)
    where role = 'student'
),
-- a day at each school the student is enrolled; the school whose enrollment began last gets it
member_days as (
    select student_id, school_id, day, instructional_value
    from (
        select spans.student_id, spans.school_id, calendar.day, calendar.instructional_value,
               max(spans.begin_date) as latest_begin
        from spans
        join calendar on calendar.school_id = spans.school_id
            and calendar.day >= spans.begin_date and calendar.day < spans.end_date
        where calendar.day <= (select as_of_date from as_of)
        group by all
    )
    qualify row_number() over (partition by student_id, day order by latest_begin desc, school_id) = 1
),
valued as (
    select attendance.*, coalesce(codes.absent_value, 0) as absent_value
    from attendance left join codes on codes.code = attendance.code
),
-- a daily record decides the day; else absent when the periods' absent values reach half the periods
day_values as (
    select student_id, school_id, day,
           coalesce(
               max(case when is_daily then absent_value end),
               case when sum(case when not is_daily then absent_value end) * 2
                         >= count(case when not is_daily then 1 end) then 1 else 0 end
           ) as absent_value
    from valued
    group by all
),
daily as (
    select member_days.student_id, member_days.school_id, member_days.day, member_days.instructional_value,
           member_days.instructional_value * coalesce(day_values.absent_value, 0) as absent_day_value
    from member_days
    left join day_values using (student_id, school_id, day)
)
select daily.student_id, daily.school_id, sessions.session_id as academic_session_id,
       sum(daily.instructional_value) as membership_days,
       sum(daily.absent_day_value) as absent_days,
       sum(daily.instructional_value) >= 10
           and sum(daily.absent_day_value) >= 0.10 * sum(daily.instructional_value) as is_chronically_absent
from daily
join sessions on daily.day >= sessions.start_date and daily.day < sessions.end_date
group by all;
