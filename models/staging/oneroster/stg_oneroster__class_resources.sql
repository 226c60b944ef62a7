with source as (
    select * from {{ source('raw_oneroster', 'class_resources') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as class_resource_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('title') }} as class_resource_title,
        {{ clean_text('class_sourced_id') }} as class_id,
        {{ clean_text('resource_sourced_id') }} as resource_id,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
