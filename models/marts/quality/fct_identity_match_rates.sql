-- Identity match rates per district, source and deciding rule, with the source's overall rate
-- against its configured minimum (seeds/identity_sources.csv).
{%- set grain = ['identities.district_id', 'identities.source_system'] %}

with identities as (
    select * from {{ ref('dim_student_identities') }}
),

sources as (
    select * from {{ ref('int_identity_sources_resolved') }}
),

per_rule as (
    select
        {{ grain | join(', ') }},
        coalesce(identities.matched_rule, 'none') as rule_name,
        min(identities.matched_rule_order) as rule_order,
        count(*) as records,
        sum(case when identities.is_resolved then 1 else 0 end) as matched_records,
        sum(case when identities.match_status = 'ambiguous' then 1 else 0 end) as ambiguous_records,
        sum(case when identities.match_status = 'unmatched' then 1 else 0 end) as unmatched_records
    from identities
    group by {{ grain | join(', ') }}, coalesce(identities.matched_rule, 'none')
),

per_source as (
    select
        {{ grain | join(', ') }},
        count(*) as source_records,
        sum(case when identities.is_resolved then 1 else 0 end) as source_matched_records
    from identities
    group by {{ grain | join(', ') }}
),

final as (
    select
        per_rule.district_id,
        per_rule.source_system,
        per_rule.rule_name,
        per_rule.rule_order,
        coalesce(sources.is_anchor, false) as is_anchor_source,
        per_rule.records,
        per_rule.matched_records,
        per_rule.ambiguous_records,
        per_rule.unmatched_records,
        cast(round(1.0 * per_rule.matched_records / per_source.source_records, 4) as decimal(9, 4)) as match_rate,
        per_source.source_records,
        per_source.source_matched_records,
        cast(
            round(1.0 * per_source.source_matched_records / per_source.source_records, 4) as decimal(9, 4)
        ) as source_match_rate,
        case when not sources.is_anchor then sources.min_match_rate end as min_match_rate,
        coalesce(
            not sources.is_anchor
            and per_source.source_matched_records < sources.min_match_rate * per_source.source_records,
            false
        ) as is_below_min_match_rate
    from per_rule
    inner join per_source
        on
            per_rule.district_id = per_source.district_id
            and per_rule.source_system = per_source.source_system
    left join sources
        on
            per_rule.district_id = sources.district_id
            and per_rule.source_system = sources.source_system
)

select * from final
