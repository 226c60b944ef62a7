-- One row per calendar day from 2000 to 2050: the semantic layer's time spine.
with days as (
    select cast(range as date) as date_day
    from range(date '2000-01-01', date '2051-01-01', interval 1 day)
),

final as (
    select date_day from days
)

select * from final
