-- What: every non-anchor source of a district matches at least its configured share of student
--   records to anchor students (min_match_rate in seeds/identity_sources.csv).
-- When it matters: below it, assessment results and other source data of many students reach no
--   person — usually a changed export (ids reformatted, emails missing) or the wrong anchor.
-- How to fix: work the records in quality.fct_identity_review_queue (fix the source data), adjust
--   the district's rules in seeds/identity_match_rules.csv, or its minimum (docs/identity.md).
with match_rates as (
    select * from {{ ref('fct_identity_match_rates') }}
),

final as (
    select distinct
        district_id,
        source_system,
        source_records,
        source_matched_records,
        source_match_rate,
        min_match_rate
    from match_rates
    where is_below_min_match_rate
)

select * from final
