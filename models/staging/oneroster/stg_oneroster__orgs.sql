with source as (
    select * from {{ source('raw_oneroster', 'orgs') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as org_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('name') }} as org_name,
        {{ clean_enum('type') }} as org_type,
        {{ clean_text('identifier') }} as org_identifier,
        {{ clean_text('parent_sourced_id') }} as parent_org_id,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
