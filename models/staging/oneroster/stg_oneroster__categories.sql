with source as (
    select * from {{ source('raw_oneroster', 'categories') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as category_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('title') }} as category_title,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
