-- Every org of every roster source: OneRoster orgs as staged, plus the schools an SIS export
-- names (student, staff and section files carry only a school id or campus code; the name is
-- "School <id>" until a OneRoster org with that id arrives).
with oneroster_orgs as (
    select * from {{ ref('stg_oneroster__orgs') }}
    where not is_tombstoned
),

sis_school_ids as (
    select
        district_id,
        school_id
    from {{ ref('stg_sis__students') }}
    union
    select
        district_id,
        school_id
    from {{ ref('stg_sis__staff') }}
    union
    select
        district_id,
        school_id
    from {{ ref('stg_sis__sections') }}
),

from_oneroster as (
    select
        district_id,
        org_id,
        org_name,
        org_type,
        org_identifier,
        parent_org_id,
        'oneroster' as source_system
    from oneroster_orgs
),

from_sis as (
    select
        sis_school_ids.district_id,
        sis_school_ids.school_id as org_id,
        'School ' || sis_school_ids.school_id as org_name,
        'school' as org_type,
        sis_school_ids.school_id as org_identifier,
        cast(null as {{ dbt.type_string() }}) as parent_org_id,
        'sis' as source_system
    from sis_school_ids
    left join oneroster_orgs
        on
            sis_school_ids.district_id = oneroster_orgs.district_id
            and sis_school_ids.school_id = oneroster_orgs.org_id
    where sis_school_ids.school_id is not null and oneroster_orgs.org_id is null
),

final as (
    select * from from_oneroster
    union all
    select * from from_sis
)

select * from final
