-- One row per student record of a non-anchor source: the anchor student it was matched to by
-- the district's rule cascade. Rules run in rule_order; the first rule that finds at least
-- one anchor student decides: exactly one -> matched, two or more -> ambiguous (never merged),
-- none after every enabled rule -> unmatched.
with records as (
    select * from {{ ref('int_student_records_unioned') }}
),

sources as (
    select * from {{ ref('int_identity_sources_resolved') }}
),

rule_settings as (
    select * from {{ ref('identity_match_rules') }}
),

districts as (
    select distinct district_id
    from records
),

resolved_rules as (
    {{ district_settings('rule_settings', 'districts', 'rule_name') }}
),

enabled_rules as (
    select
        setting_district_id as district_id,
        rule_name,
        rule_order,
        min_similarity
    from resolved_rules
    where enabled
),

district_anchors as (
    select distinct
        district_id,
        anchor_source_system
    from sources
),

match_keys as (
    select
        records.district_id,
        records.source_system,
        records.source_record_id,
        coalesce(sources.is_anchor, false) as is_anchor,
        {{ normalize_email('records.email') }} as email_key,
        {{ clean_text('records.student_number') }} as student_number_key,
        {{ clean_text('records.state_id') }} as state_id_key,
        {{ normalize_name('records.first_name') }} as first_name_key,
        {{ normalize_name('records.last_name') }} as last_name_key,
        records.birth_date
    from records
    left join sources
        on
            records.district_id = sources.district_id
            and records.source_system = sources.source_system
),

anchors as (
    select * from match_keys
    where is_anchor
),

non_anchors as (
    select * from match_keys
    where not is_anchor
),

-- Every anchor student each rule finds for a record (exact rules: all keys equal, none null;
-- fuzzy: same birth date, similarity of "first last" to 4 decimals, kept for the threshold below).
candidates as (
    {{ exact_rule_candidates('email', ['email_key']) }}
    union all
    {{ exact_rule_candidates('student_number', ['student_number_key']) }}
    union all
    {{ exact_rule_candidates('state_id', ['state_id_key']) }}
    union all
    {{ exact_rule_candidates('name_birth_date', ['first_name_key', 'last_name_key', 'birth_date']) }}
    union all
    select
        non_anchors.district_id,
        non_anchors.source_system,
        non_anchors.source_record_id,
        'fuzzy_name_birth_date' as rule_name,
        anchors.source_system as anchor_source_system,
        anchors.source_record_id as anchor_record_id,
        cast({{ name_similarity(
            "non_anchors.first_name_key || ' ' || non_anchors.last_name_key",
            "anchors.first_name_key || ' ' || anchors.last_name_key"
        ) }} as decimal(9, 4)) as name_similarity
    from non_anchors
    inner join anchors
        on
            non_anchors.district_id = anchors.district_id
            and non_anchors.birth_date = anchors.birth_date
    where
        non_anchors.first_name_key is not null
        and non_anchors.last_name_key is not null
        and anchors.first_name_key is not null
        and anchors.last_name_key is not null
),

rule_candidates as (
    select
        candidates.*,
        enabled_rules.rule_order,
        {{ skey('person_key', 'candidates') }}
            as candidate_person_key,
        dense_rank() over (
            partition by candidates.district_id, candidates.source_system, candidates.source_record_id
            order by enabled_rules.rule_order, candidates.rule_name
        ) as rule_rank
    from candidates
    inner join enabled_rules
        on
            candidates.district_id = enabled_rules.district_id
            and candidates.rule_name = enabled_rules.rule_name
    where
        candidates.rule_name <> 'fuzzy_name_birth_date'
        or candidates.name_similarity >= enabled_rules.min_similarity
),

-- The first rule with a candidate decides.
outcomes as (
    select
        district_id,
        source_system,
        source_record_id,
        min(rule_name) as matched_rule,
        min(rule_order) as matched_rule_order,
        count(*) as candidate_count,
        min(anchor_record_id) as first_anchor_record_id,
        min(candidate_person_key) as first_candidate_person_key,
        max(name_similarity) as name_similarity,
        {{ dbt.listagg('anchor_record_id', "', '", 'order by anchor_record_id') }} as candidate_anchor_record_ids,
        {{ dbt.listagg('candidate_person_key', "', '", 'order by anchor_record_id') }} as candidate_person_keys
    from rule_candidates
    where rule_rank = 1
    group by district_id, source_system, source_record_id
),

final as (
    select
        non_anchors.district_id,
        non_anchors.source_system,
        non_anchors.source_record_id,
        district_anchors.anchor_source_system,
        case
            when outcomes.candidate_count = 1 then 'matched'
            when outcomes.candidate_count > 1 then 'ambiguous'
            else 'unmatched'
        end as match_status,
        outcomes.matched_rule,
        outcomes.matched_rule_order,
        coalesce(outcomes.candidate_count, 0) as candidate_count,
        case when outcomes.candidate_count = 1 then outcomes.first_anchor_record_id end as anchor_record_id,
        case when outcomes.candidate_count = 1 then outcomes.first_candidate_person_key end as person_key,
        outcomes.name_similarity,
        outcomes.candidate_anchor_record_ids,
        outcomes.candidate_person_keys
    from non_anchors
    left join district_anchors
        on non_anchors.district_id = district_anchors.district_id
    left join outcomes
        on
            non_anchors.district_id = outcomes.district_id
            and non_anchors.source_system = outcomes.source_system
            and non_anchors.source_record_id = outcomes.source_record_id
)

select * from final
