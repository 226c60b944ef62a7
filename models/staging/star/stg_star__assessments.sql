-- Star assessments: every file adds rows; an assessment sent again keeps its latest landed row.
with source as (
    {{ mapped_source('raw_star', 'assessments') }}
),

latest as (
    {{ latest_mapped_events('source', ['student_identifier', 'assessment_id', 'assessment_number', 'assessment_type']) }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('student_identifier') }} as student_identifier,
        {{ clean_text('assessment_id') }} as assessment_id,
        {{ clean_text('assessment_number') }} as assessment_number,
        {{ clean_text('assessment_type') }} as assessment_type,
        {{ clean_enum('assessment_subject') }} as assessment_subject,
        {{ clean_text('assessment_status') }} as assessment_status,
        {{ parse_timestamp('completed_at') }} as completed_at,
        {{ clean_text('school_year') }} as school_year_label,
        {{ clean_text('window_name') }} as window_name,
        {{ clean_text('student_state_id') }} as student_state_id,
        {{ clean_text('student_renaissance_id') }} as student_renaissance_id,
        {{ clean_text('student_sourced_id') }} as student_sourced_id,
        {{ clean_email('student_email') }} as student_email,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('middle_name') }} as middle_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('gender') }} as gender,
        {{ parse_date('birth_date') }} as birth_date,
        {{ clean_text('current_grade') }} as current_grade,
        {{ clean_text('district_state_id') }} as district_state_id,
        {{ clean_text('district_identifier') }} as district_identifier,
        {{ clean_text('district_name') }} as district_name,
        {{ clean_text('school_identifier') }} as school_id,
        {{ clean_text('school_state_id') }} as school_state_id,
        {{ clean_text('school_name') }} as school_name,
        {{ clean_text('teacher_identifier') }} as teacher_id,
        {{ parse_decimal('grade_placement', 5, 2) }} as grade_placement,
        {{ clean_text('grade') }} as grade,
        {{ parse_integer('scaled_score') }} as scaled_score,
        {{ parse_decimal('standard_error', 9, 2) }} as standard_error,
        {{ parse_integer('percentile_rank') }} as percentile_rank,
        {{ clean_text('grade_equivalent') }} as grade_equivalent,
        {{ parse_decimal('normal_curve_equivalent', 9, 2) }} as normal_curve_equivalent,
        {{ clean_text('lexile') }} as lexile,
        {{ clean_text('literacy_classification') }} as literacy_classification,
        {{ parse_integer('current_sgp') }} as current_sgp,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
