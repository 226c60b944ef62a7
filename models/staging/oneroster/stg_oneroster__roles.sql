with source as (
    select * from {{ source('raw_oneroster', 'roles') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as role_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('user_sourced_id') }} as user_id,
        {{ clean_enum('role_type') }} as role_type,
        {{ canonical_enum('role', ['districtAdministrator', 'siteAdministrator', 'systemAdministrator']) }} as user_role,
        {{ parse_date('begin_date') }} as begin_date,
        {{ parse_date('end_date') }} as end_date,
        {{ clean_text('org_sourced_id') }} as org_id,
        {{ clean_text('user_profile_sourced_id') }} as user_profile_id,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
