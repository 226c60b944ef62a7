-- One row per class (section) per district, with its course and the number of terms it runs in.
with classes as (
    select * from {{ ref('stg_oneroster__classes') }}
    where not is_tombstoned
),

courses as (
    select * from {{ ref('stg_oneroster__courses') }}
    where not is_tombstoned
),

class_terms as (
    select * from {{ ref('int_classes_terms_unnested') }}
),

term_counts as (
    select
        district_id,
        class_id,
        count(*) as term_count
    from class_terms
    group by district_id, class_id
),

final as (
    select
        {{ skey('k_class', 'classes') }} as k_class,
        {{ skey('k_school', 'classes') }} as k_school,
        {{ skey('k_course', 'classes') }} as k_course,
        classes.district_id,
        classes.class_id,
        classes.class_title,
        classes.class_code,
        classes.class_type,
        classes.class_location,
        classes.school_id,
        classes.course_id,
        courses.course_title,
        courses.course_code,
        classes.periods,
        classes.grades,
        coalesce(term_counts.term_count, 0) as term_count
    from classes
    left join courses
        on
            classes.district_id = courses.district_id
            and classes.course_id = courses.course_id
    left join term_counts
        on
            classes.district_id = term_counts.district_id
            and classes.class_id = term_counts.class_id
)

select * from final
