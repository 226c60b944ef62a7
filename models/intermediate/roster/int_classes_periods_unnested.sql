-- Bridge: one row per class and period it meets in (classes.periods).
{{ list_bridge(ref('stg_oneroster__classes'), 'class_id', 'periods', 'period') }}
