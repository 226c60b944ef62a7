-- Bridge: one row per course and grade level (courses.grades), mapped to CEDS codes.
{{ grade_bridge(ref('stg_oneroster__courses'), 'course_id') }}
