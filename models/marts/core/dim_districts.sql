-- One row per registered district: the registry (seeds/districts.csv) with the district org as sent.
with districts as (
    select * from {{ ref('districts') }}
),

orgs as (
    select * from {{ ref('stg_oneroster__orgs') }}
    where org_type = 'district' and not is_tombstoned
),

district_orgs as (
    select
        district_id,
        min(org_id) as district_org_id,
        min(org_name) as district_org_name,
        min(org_identifier) as district_org_identifier,
        count(*) as district_org_count
    from orgs
    group by district_id
),

final as (
    select
        {{ skey('k_district', 'districts') }} as k_district,
        districts.district_id,
        districts.official_name as district_name,
        districts.nces_id,
        districts.state_id,
        districts.time_zone,
        district_orgs.district_org_id,
        district_orgs.district_org_name,
        district_orgs.district_org_identifier,
        coalesce(district_orgs.district_org_count, 0) as district_org_count
    from districts
    left join district_orgs
        on districts.district_id = district_orgs.district_id
)

select * from final
