-- Bridge: one row per class and subject, subjects paired with subjectCodes by position.
{{ subject_bridge(ref('stg_oneroster__classes'), 'class_id') }}
