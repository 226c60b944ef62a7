-- The student identity crosswalk: one row per student record of every source, with the person
-- it belongs to. A person is a student of the district's anchor source; anchor records map to
-- themselves, other records to the anchor student their rule cascade matched (person_key null
-- when ambiguous or unmatched).
with records as (
    select * from {{ ref('int_student_records_unioned') }}
),

sources as (
    select * from {{ ref('int_identity_sources_resolved') }}
),

matched as (
    select * from {{ ref('int_students_matched') }}
),

anchor_records as (
    select
        records.district_id,
        records.source_system,
        records.source_record_id,
        records.source_system as anchor_source_system,
        'anchor' as match_status,
        'anchor' as matched_rule,
        0 as matched_rule_order,
        1 as candidate_count,
        records.source_record_id as anchor_record_id,
        {{ skey('person_key', 'records', anchor_source_system='source_system', anchor_record_id='source_record_id') }} as person_key,
        cast(null as decimal(9, 4)) as name_similarity,
        cast(null as {{ dbt.type_string() }}) as candidate_anchor_record_ids,
        cast(null as {{ dbt.type_string() }}) as candidate_person_keys
    from records
    inner join sources
        on
            records.district_id = sources.district_id
            and records.source_system = sources.source_system
    where sources.is_anchor
),

matched_records as (
    select
        district_id,
        source_system,
        source_record_id,
        anchor_source_system,
        match_status,
        matched_rule,
        matched_rule_order,
        candidate_count,
        anchor_record_id,
        person_key,
        name_similarity,
        candidate_anchor_record_ids,
        candidate_person_keys
    from matched
),

unioned as (
    select * from anchor_records
    union all
    select * from matched_records
),

final as (
    select
        {{ skey('k_student_identity') }} as k_student_identity,
        district_id,
        source_system,
        source_record_id,
        person_key,
        anchor_source_system,
        anchor_record_id,
        match_status,
        person_key is not null as is_resolved,
        matched_rule,
        matched_rule_order,
        candidate_count,
        name_similarity,
        candidate_anchor_record_ids,
        candidate_person_keys
    from unioned
)

select * from final
