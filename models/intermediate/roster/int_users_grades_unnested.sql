-- Bridge: one row per user and grade level (users.grades), mapped to CEDS codes (9 -> 09, Kindergarten -> KG).
with users as (
    select * from {{ ref('stg_oneroster__users') }}
),

grade_levels as (
    select * from {{ ref('xwalk_grade_levels') }}
),

unnested as (
    select
        district_id,
        user_id,
        {{ unnest_list('grades') }} as source_grade
    from users
    where not is_tombstoned
),

final as (
    select distinct
        unnested.district_id,
        unnested.user_id,
        unnested.source_grade,
        grade_levels.ceds_grade_level,
        grade_levels.grade_sort_order
    from unnested
    left join grade_levels
        on lower(trim(unnested.source_grade)) = grade_levels.source_grade
)

select * from final
