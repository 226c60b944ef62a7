-- The identity sources of each district: the district's own settings (seeds/identity_sources.csv)
-- where it has them, else the default rows (district_id '*'); one anchor source per district.
with records as (
    select * from {{ ref('int_student_records_unioned') }}
),

source_settings as (
    select * from {{ ref('identity_sources') }}
),

districts as (
    select distinct district_id
    from records
),

resolved as (
    {{ district_settings('source_settings', 'districts', 'source_system') }}
),

-- A district's own anchor beats the default anchor.
anchor_candidates as (
    select
        setting_district_id as district_id,
        source_system as anchor_source_system,
        row_number() over (
            partition by setting_district_id
            order by case when is_district_setting then 0 else 1 end, source_system
        ) as anchor_rank
    from resolved
    where is_anchor
),

final as (
    select
        resolved.setting_district_id as district_id,
        resolved.source_system,
        coalesce(resolved.source_system = anchor_candidates.anchor_source_system, false) as is_anchor,
        anchor_candidates.anchor_source_system,
        resolved.min_match_rate,
        resolved.is_district_setting
    from resolved
    left join anchor_candidates
        on
            resolved.setting_district_id = anchor_candidates.district_id
            and anchor_candidates.anchor_rank = 1
)

select * from final
