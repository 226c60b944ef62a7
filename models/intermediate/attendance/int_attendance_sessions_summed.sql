-- One row per student, school and academic session (every level: school year, semester, term,
-- grading period) with the session's membership and absent days — the segments it holds added up
-- (int_attendance_segments_summed), absences exact in absent units. A day counts in every session
-- containing it (start inclusive, end exclusive). The base of the rates and chronic-absenteeism
-- marts; rebuilt whole from the segment sums, a few rows per student and week: they are added up
-- per session set first (the weeks of a grading period share one), then spread to its sessions,
-- so each segment row is read once instead of once per session holding it.
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

segment_sets as (
    select distinct
        district_id,
        segment_id,
        session_set_id,
        segment_first_date
    from segment_days
),

-- each session set lies wholly inside each session that holds its segments' first days
set_sessions as (
    select distinct
        segment_sets.district_id,
        segment_sets.session_set_id,
        sessions.academic_session_id,
        {{ dbt.dateadd('day', -1, 'sessions.end_date') }} as session_last_date
    from segment_sets
    inner join sessions
        on
            segment_sets.district_id = sessions.district_id
            and segment_sets.segment_first_date >= sessions.start_date
            and segment_sets.segment_first_date < sessions.end_date
),

set_sums as (
    select
        segment_sums.district_id,
        segment_sums.student_id,
        segment_sums.school_id,
        segment_sets.session_set_id,
        {%- for column in summed %}
            sum(segment_sums.{{ column }}) as {{ column }},
        {%- endfor %}
        sum(segment_sums.membership_days) as membership_days,
        min(segment_sums.first_membership_date) as first_membership_date,
        max(segment_sums.last_membership_date) as last_membership_date
    from segment_sums
    inner join segment_sets
        on
            segment_sums.district_id = segment_sets.district_id
            and segment_sums.segment_id = segment_sets.segment_id
    group by
        segment_sums.district_id,
        segment_sums.student_id,
        segment_sums.school_id,
        segment_sets.session_set_id
),

final as (
    select
        set_sums.district_id,
        set_sums.student_id,
        set_sums.school_id,
        set_sessions.academic_session_id,
        set_sessions.session_last_date,
        {%- for column in summed %}
            cast(sum(set_sums.{{ column }}) as bigint) as {{ column }},
        {%- endfor %}
        cast(sum(set_sums.membership_days) as decimal(18, 2)) as membership_days,
        min(set_sums.first_membership_date) as first_membership_date,
        max(set_sums.last_membership_date) as last_membership_date
    from set_sums
    inner join set_sessions
        on
            set_sums.district_id = set_sessions.district_id
            and set_sums.session_set_id = set_sessions.session_set_id
    group by
        set_sums.district_id,
        set_sums.student_id,
        set_sums.school_id,
        set_sessions.academic_session_id,
        set_sessions.session_last_date
)

select * from final
