-- Bridge: one row per course and subject, subjects paired with subjectCodes by position.
{{ subject_bridge(ref('stg_oneroster__courses'), 'course_id') }}
