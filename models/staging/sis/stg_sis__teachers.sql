with source as (
    select * from {{ source('raw_sis', 'teachers') }}
),

latest as (
    {{ latest_mapped_file('source') }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('teacher_id') }} as teacher_id,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('username') }} as username,
        {{ clean_email('email') }} as email,
        {{ clean_text('description') }} as description,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
