with source as (
    select * from {{ source('raw_oneroster', 'line_items') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as line_item_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('title') }} as line_item_title,
        {{ clean_text('description') }} as line_item_description,
        {{ parse_date('assign_date') }} as assign_date,
        {{ parse_date('due_date') }} as due_date,
        {{ clean_text('class_sourced_id') }} as class_id,
        {{ clean_text('category_sourced_id') }} as category_id,
        {{ clean_text('grading_period_sourced_id') }} as grading_period_id,
        {{ parse_decimal('result_value_min', 18, 4) }} as result_value_min,
        {{ parse_decimal('result_value_max', 18, 4) }} as result_value_max,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
