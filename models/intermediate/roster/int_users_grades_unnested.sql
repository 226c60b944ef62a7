-- Bridge: one row per user and grade level (users.grades), mapped to CEDS codes (9 -> 09, Kindergarten -> KG).
{{ grade_bridge(ref('stg_oneroster__users'), 'user_id') }}
