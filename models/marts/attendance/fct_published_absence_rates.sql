-- Aggregates safe to publish: absence and chronic absenteeism rates per rule set, academic
-- session and reporting group (all students, grade, sex, race/ethnicity) — per school for
-- school-scope rule sets, per district for district-scope ones. A cell with fewer students
-- than the publication_min_cell_size var is kept but suppressed: its numbers are null (and so is
-- one more cell of its group type when it is the only small one: complementary suppression).
{%- set cell_keys = [
    'rule_set_id',
    'rule_set_scope',
    'district_id',
    'school_id',
    'academic_session_id',
    'session_type',
    'school_year',
    'reporting_group_type',
    'reporting_group_value',
] %}

with chronic as (
    select * from {{ ref('fct_chronic_absenteeism') }}
),

students as (
    select * from {{ ref('dim_students') }}
),

described as (
    select
        chronic.rule_set_id,
        chronic.rule_set_scope,
        chronic.district_id,
        chronic.school_id,
        chronic.academic_session_id,
        chronic.session_type,
        chronic.school_year,
        chronic.student_id,
        chronic.membership_days,
        chronic.absent_day_units,
        chronic.meets_minimum_days,
        chronic.is_chronically_absent,
        coalesce(students.grade_level, 'Not reported') as grade_level,
        coalesce(students.sex, 'Not reported') as sex,
        case
            when students.is_hispanic_or_latino then 'Hispanic or Latino'
            when students.is_two_or_more_races then 'Two or more races'
            when students.is_american_indian_or_alaska_native then 'American Indian or Alaska Native'
            when students.is_asian then 'Asian'
            when students.is_black_or_african_american then 'Black or African American'
            when students.is_native_hawaiian_or_other_pacific_islander then 'Native Hawaiian or Other Pacific Islander'
            when students.is_white then 'White'
            else 'Not reported'
        end as race_ethnicity
    from chronic
    left join students
        on
            chronic.district_id = students.district_id
            and chronic.student_id = students.student_id
),

{%- set reporting_groups = [
    ('all', "'All students'"),
    ('grade', 'grade_level'),
    ('sex', 'sex'),
    ('race_ethnicity', 'race_ethnicity'),
] %}

grouped as (
    {%- for group_type, group_value in reporting_groups %}
        select
            *,
            '{{ group_type }}' as reporting_group_type,
            {{ group_value }} as reporting_group_value
        from described
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

cells as (
    select
        {{ cell_keys | join(',\n        ') }},
        count(*) as student_count,
        cast(sum(case when meets_minimum_days then 1 else 0 end) as bigint) as eligible_student_count,
        cast(sum(case when is_chronically_absent then 1 else 0 end) as bigint) as chronically_absent_count,
        cast(sum(membership_days) as decimal(18, 2)) as membership_days,
        cast(sum(absent_day_units) as bigint) as absent_day_units
    from grouped
    group by {{ cell_keys | join(', ') }}
),

-- complementary suppression: a reporting group type (grade, sex, race/ethnicity) with exactly
-- one small cell also suppresses its next smallest cell, so that the small cell cannot be
-- recovered by subtracting the others from the all-students cell
ranked as (
    select
        *,
        student_count < {{ var('publication_min_cell_size') }} as is_small_cell,
        count(case when student_count < {{ var('publication_min_cell_size') }} then 1 end) over group_cells
            as small_cells_in_group,
        row_number() over (
            partition by
                {{ cell_keys | reject('equalto', 'reporting_group_value') | join(',\n                ') }},
                student_count < {{ var('publication_min_cell_size') }}
            order by student_count, reporting_group_value
        ) as size_rank
    from cells
    window group_cells as (partition by {{ cell_keys | reject('equalto', 'reporting_group_value') | join(', ') }})
),

marked as (
    select
        *,
        is_small_cell
        or (reporting_group_type <> 'all' and small_cells_in_group = 1 and size_rank = 1) as is_suppressed
    from ranked
),

final as (
    select
        {{ cell_keys | join(',\n        ') }},
        is_suppressed,
        case when not is_suppressed then student_count end as student_count,
        case when not is_suppressed then eligible_student_count end as eligible_student_count,
        case when not is_suppressed then chronically_absent_count end as chronically_absent_count,
        case when not is_suppressed then {{ absence_rate('absent_day_units', 'membership_days') }} end as absence_rate,
        case when not is_suppressed then {{ count_share('chronically_absent_count', 'eligible_student_count') }} end
            as chronic_absence_rate
    from marked
)

select * from final
