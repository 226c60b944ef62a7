-- Bridge: one row per class and academic session it is taught in (classes.termSourcedIds).
{{ list_bridge(ref('stg_oneroster__classes'), 'class_id', 'term_ids', 'academic_session_id') }}
