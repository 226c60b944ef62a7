-- Bridge: one row per class and grade level (classes.grades), mapped to CEDS codes.
{{ grade_bridge(ref('stg_oneroster__classes'), 'class_id') }}
