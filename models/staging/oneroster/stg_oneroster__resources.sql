with source as (
    select * from {{ source('raw_oneroster', 'resources') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as resource_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('vendor_resource_id') }} as vendor_resource_id,
        {{ clean_text('title') }} as resource_title,
        {{ split_list('roles') }} as resource_roles,
        {{ clean_enum('importance') }} as importance,
        {{ clean_text('vendor_id') }} as vendor_id,
        {{ clean_text('application_id') }} as application_id,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
