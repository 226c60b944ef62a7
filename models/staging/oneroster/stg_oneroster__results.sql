with source as (
    select * from {{ source('raw_oneroster', 'results') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as result_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('line_item_sourced_id') }} as line_item_id,
        {{ clean_text('student_sourced_id') }} as user_id,
        {{ clean_enum('score_status') }} as score_status,
        {{ parse_decimal('score', 18, 4) }} as score,
        {{ parse_date('score_date') }} as score_date,
        {{ clean_text('comment') }} as result_comment,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
