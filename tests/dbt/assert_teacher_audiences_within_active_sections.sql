-- A teacher may message only students (and their families) of classes the teacher is rostered to
-- on the messaging date. Any row here is a student outside the teacher's active classes: a join
-- in fct_teacher_audiences is wrong. Fix the model, never the data.
with audiences as (
    select * from {{ ref('fct_teacher_audiences') }}
),

rosters as (
    select * from {{ ref('int_class_rosters_current') }}
)

select
    audiences.district_id,
    audiences.teacher_id,
    audiences.class_id,
    audiences.student_id,
    audiences.recipient_user_id
from audiences
where not exists (
    select 1
    from rosters as teacher_roster
    inner join rosters as student_roster
        on
            teacher_roster.district_id = student_roster.district_id
            and teacher_roster.class_id = student_roster.class_id
    where
        teacher_roster.district_id = audiences.district_id
        and teacher_roster.class_id = audiences.class_id
        and teacher_roster.user_id = audiences.teacher_id
        and teacher_roster.roster_role = 'teacher'
        and student_roster.user_id = audiences.student_id
        and student_roster.roster_role = 'student'
)
