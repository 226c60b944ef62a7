-- Who is in which class on the messaging date (var messaging_as_of_date; default today, or a
-- district's last attendance day when its school year has ended):
-- OneRoster enrollments whose effective dates contain the date, and the SIS's current
-- section (teacher) and enrollment (student) files. Tagged reads_clock: `rollcall build` rebuilds
-- it (and what reads it) on the first build of a new day even when nothing was loaded.
{{ config(tags=['reads_clock']) }}

with enrollments as (
    select * from {{ ref('int_enrollments_dated') }}
),

sis_sections as (
    select * from {{ ref('stg_sis__sections') }}
),

sis_enrollments as (
    select * from {{ ref('stg_sis__enrollments') }}
),

district_dates as (
    select * from {{ ref('int_districts_as_of_dates') }}
),

as_of as (
    -- the var when set; else today, or the district's last attendance day when that is earlier
    -- (a finished school year: the roster as it stood on its last day)
    select
        enrollment_districts.district_id,
        {% if var('messaging_as_of_date') %}
            cast('{{ var("messaging_as_of_date") }}' as date)
        {% else %}
            least(current_date, coalesce(district_dates.as_of_date, current_date))
        {% endif %} as as_of_date
    from (select distinct district_id from enrollments) as enrollment_districts
    left join district_dates
        on enrollment_districts.district_id = district_dates.district_id
),

from_oneroster as (
    select
        enrollments.district_id,
        enrollments.class_id,
        enrollments.school_id,
        enrollments.user_id,
        enrollments.enrollment_role as roster_role,
        'oneroster' as source_system
    from enrollments
    inner join as_of
        on enrollments.district_id = as_of.district_id
    where
        enrollments.source_system = 'oneroster'
        and enrollments.enrollment_role in ('teacher', 'student')
        and (enrollments.effective_begin_date is null or enrollments.effective_begin_date <= as_of.as_of_date)
        and (enrollments.effective_end_date is null or enrollments.effective_end_date > as_of.as_of_date)
),

from_sis_teachers as (
    select
        district_id,
        class_id,
        school_id,
        teacher_id as user_id,
        'teacher' as roster_role,
        'sis' as source_system
    from sis_sections
),

from_sis_students as (
    select
        sis_enrollments.district_id,
        sis_enrollments.class_id,
        sis_enrollments.school_id,
        sis_enrollments.student_id as user_id,
        'student' as roster_role,
        'sis' as source_system
    from sis_enrollments
    inner join sis_sections
        on
            sis_enrollments.district_id = sis_sections.district_id
            and sis_enrollments.class_id = sis_sections.class_id
),

final as (
    select distinct * from from_oneroster
    union
    select * from from_sis_teachers
    union
    select * from from_sis_students
)

select * from final
