-- Student records identity resolution could not place: ambiguous ones (two or more anchor
-- students found by the deciding rule, never merged automatically) and unmatched ones, with
-- the candidates, the reason, and the attributes a reviewer compares.
with identities as (
    select * from {{ ref('dim_student_identities') }}
),

records as (
    select * from {{ ref('int_student_records_unioned') }}
),

anchor_counts as (
    select
        district_id,
        count(*) as anchor_records
    from identities
    where match_status = 'anchor'
    group by district_id
),

queued as (
    select * from identities
    where match_status in ('ambiguous', 'unmatched')
),

final as (
    select
        queued.k_student_identity,
        queued.district_id,
        queued.source_system,
        queued.source_record_id,
        queued.match_status,
        case
            when queued.match_status = 'ambiguous'
                then
                    cast(queued.candidate_count as {{ dbt.type_string() }}) || ' ' || queued.anchor_source_system
                    || ' students found by rule ' || queued.matched_rule || '; not merged with any of them'
            when queued.anchor_source_system is null
                then 'no anchor source is configured for the district'
            when anchor_counts.anchor_records is null
                then 'the district has no ' || queued.anchor_source_system || ' students to match'
            else 'no enabled rule found a ' || queued.anchor_source_system || ' student'
        end as review_reason,
        queued.anchor_source_system,
        queued.matched_rule,
        queued.candidate_count,
        queued.candidate_person_keys,
        queued.candidate_anchor_record_ids,
        queued.name_similarity,
        records.first_name,
        records.last_name,
        records.birth_date,
        records.email,
        records.student_number,
        records.state_id
    from queued
    inner join records
        on
            queued.district_id = records.district_id
            and queued.source_system = records.source_system
            and queued.source_record_id = records.source_record_id
    left join anchor_counts
        on queued.district_id = anchor_counts.district_id
)

select * from final
