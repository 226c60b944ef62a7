-- One row per student per district, with CEDS grade, home school and demographics: the roster
-- sources' students (int_students_unioned) with their surrogate key.
with students as (
    select * from {{ ref('int_students_unioned') }}
),

final as (
    select
        {{ skey('k_student', 'students') }} as k_student,
        students.district_id,
        students.student_id,
        students.student_identifier,
        students.username,
        students.given_name,
        students.middle_name,
        students.family_name,
        students.preferred_given_name,
        students.preferred_family_name,
        students.email,
        students.sms,
        students.phone,
        students.is_enabled_user,
        students.grade_level,
        students.has_multiple_grades,
        students.primary_school_id,
        students.related_user_count,
        students.birth_date,
        students.sex,
        students.is_american_indian_or_alaska_native,
        students.is_asian,
        students.is_black_or_african_american,
        students.is_native_hawaiian_or_other_pacific_islander,
        students.is_white,
        students.is_two_or_more_races,
        students.is_hispanic_or_latino,
        students.has_demographics,
        students.has_student_enrollment,
        students.source_system
    from students
)

select * from final
