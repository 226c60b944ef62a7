-- Bridge: one row per class and academic session it is taught in (classes.termSourcedIds).
with classes as (
    select * from {{ ref('stg_oneroster__classes') }}
),

unnested as (
    select
        district_id,
        class_id,
        {{ unnest_list('term_ids') }} as academic_session_id
    from classes
    where not is_tombstoned
),

final as (
    select distinct
        district_id,
        class_id,
        academic_session_id
    from unnested
)

select * from final
