-- One row per Renaissance Star assessment, linked to the student's person (identity crosswalk)
-- and to the student id of the district's anchor source; both null, and flagged, when the
-- Star student is ambiguous or unmatched.
with assessments as (
    select * from {{ ref('stg_star__assessments') }}
),

identities as (
    select * from {{ ref('dim_student_identities') }}
    where source_system = 'star'
),

final as (
    select
        {{ skey('k_assessment_result', 'assessments') }} as k_assessment_result,
        assessments.district_id,
        'star' as assessment_vendor,
        assessments.assessment_subject,
        assessments.assessment_id,
        assessments.assessment_number,
        assessments.assessment_type,
        assessments.assessment_status,
        assessments.student_identifier,
        identities.person_key,
        identities.anchor_source_system,
        identities.anchor_record_id as anchor_student_id,
        case
            when identities.anchor_source_system = 'oneroster' and identities.anchor_record_id is not null
                then {{ skey('k_student', 'assessments', student_id='identities.anchor_record_id') }}
        end as k_student,
        coalesce(identities.match_status, 'unmatched') as identity_match_status,
        identities.matched_rule as identity_matched_rule,
        identities.person_key is not null as is_student_matched,
        assessments.completed_at,
        cast(assessments.completed_at as date) as completed_date,
        coalesce(
            {{ dbt.safe_cast(dbt.right('assessments.school_year_label', 4), api.Column.translate_type('integer')) }},
            cast(extract(year from assessments.completed_at) as integer)
            + case when extract(month from assessments.completed_at) >= 7 then 1 else 0 end
        ) as school_year,
        assessments.window_name,
        assessments.school_id,
        assessments.school_name,
        assessments.teacher_id,
        assessments.current_grade,
        assessments.grade,
        assessments.grade_placement,
        assessments.scaled_score,
        assessments.standard_error,
        assessments.percentile_rank,
        assessments.grade_equivalent,
        assessments.normal_curve_equivalent,
        assessments.lexile,
        assessments.literacy_classification,
        assessments.current_sgp,
        assessments.source_file,
        assessments.loaded_at
    from assessments
    left join identities
        on
            assessments.district_id = identities.district_id
            and assessments.student_identifier = identities.source_record_id
)

select * from final
