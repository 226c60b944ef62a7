-- Absence codes of every district: those it sends in absenceCodes.csv, and those it maps in
-- configuration (seeds/district_absence_codes.csv) for exports that carry codes but no code list,
-- such as SIS absence exports. A code the district sends for the same scope wins over its
-- configured twin.
with oneroster_codes as (
    select
        district_id,
        absence_code_id,
        absence_code,
        absence_code_description,
        absent_value,
        attendance_category,
        org_id,
        is_tombstoned,
        'absenceCodes.csv' as code_source
    from {{ ref('stg_oneroster__absence_codes') }}
),

configured_codes as (
    select
        district_id,
        'config:' || absence_code || coalesce(':' || nullif(trim(org_id), ''), '') as absence_code_id,
        absence_code,
        description as absence_code_description,
        absent_value,
        attendance_category,
        nullif(trim(org_id), '') as org_id,
        false as is_tombstoned,
        'config' as code_source
    from {{ ref('district_absence_codes') }}
),

configured_only as (
    select configured_codes.*
    from configured_codes
    left join oneroster_codes
        on
            configured_codes.district_id = oneroster_codes.district_id
            and configured_codes.absence_code = oneroster_codes.absence_code
            and coalesce(configured_codes.org_id, '') = coalesce(oneroster_codes.org_id, '')
            and not oneroster_codes.is_tombstoned
    where oneroster_codes.district_id is null
),

final as (
    select * from oneroster_codes
    union all
    select * from configured_only
)

select * from final
