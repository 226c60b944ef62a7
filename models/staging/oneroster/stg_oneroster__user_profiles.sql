with source as (
    select * from {{ source('raw_oneroster', 'user_profiles') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as user_profile_id,
        {{ oneroster_record_columns() }}
        {{ clean_text('user_sourced_id') }} as user_id,
        {{ clean_text('profile_type') }} as profile_type,
        {{ clean_text('vendor_id') }} as vendor_id,
        {{ clean_text('application_id') }} as application_id,
        {{ clean_text('description') }} as profile_description,
        {{ clean_text('credential_type') }} as credential_type,
        {{ clean_text('username') }} as profile_username,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
