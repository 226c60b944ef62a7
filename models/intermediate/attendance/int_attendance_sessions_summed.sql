-- One row per student, school and academic session (every level: school year, semester, term,
-- grading period) with the session's membership and absent days — the segments it holds added up
-- (int_attendance_segments_summed), absences exact in absent units. A day counts in every session
-- containing it (start inclusive, end exclusive). The base of the rates and chronic-absenteeism
-- marts; rebuilt whole from the segment sums, a few rows per student and week.
{%- set summed = [
    'membership_day_count',
    'absent_day_units',
    'absent_day_units_suspension_as_absent',
    'absent_day_units_suspension_excluded',
    'excused_absent_day_units',
    'unexcused_absent_day_units',
    'suspension_absent_day_units',
    'tardy_count',
] %}

with segment_sums as (
    select * from {{ ref('int_attendance_segments_summed') }}
),

segment_days as (
    select * from {{ ref('int_session_segment_days') }}
),

sessions as (
    select * from {{ ref('stg_oneroster__academic_sessions') }}
    where not is_tombstoned and start_date < end_date
),

-- each segment lies wholly inside each session that holds its first day
segment_sessions as (
    select distinct
        segment_days.district_id,
        segment_days.segment_id,
        sessions.academic_session_id,
        {{ dbt.dateadd('day', -1, 'sessions.end_date') }} as session_last_date
    from segment_days
    inner join sessions
        on
            segment_days.district_id = sessions.district_id
            and segment_days.segment_first_date >= sessions.start_date
            and segment_days.segment_first_date < sessions.end_date
),

final as (
    select
        segment_sums.district_id,
        segment_sums.student_id,
        segment_sums.school_id,
        segment_sessions.academic_session_id,
        segment_sessions.session_last_date,
        {%- for column in summed %}
            cast(sum(segment_sums.{{ column }}) as bigint) as {{ column }},
        {%- endfor %}
        cast(sum(segment_sums.membership_days) as decimal(18, 2)) as membership_days,
        min(segment_sums.first_membership_date) as first_membership_date,
        max(segment_sums.last_membership_date) as last_membership_date
    from segment_sums
    inner join segment_sessions
        on
            segment_sums.district_id = segment_sessions.district_id
            and segment_sums.segment_id = segment_sessions.segment_id
    group by
        segment_sums.district_id,
        segment_sums.student_id,
        segment_sums.school_id,
        segment_sessions.academic_session_id,
        segment_sessions.session_last_date
)

select * from final
