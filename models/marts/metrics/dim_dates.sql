-- One row per calendar day from 2000 to 2050: the semantic layer's time spine.
with days as (
    select {{ unnest_days("date '2000-01-01'", "date '2051-01-01'") }} as date_day
),

final as (
    select date_day from days
)

select * from final
