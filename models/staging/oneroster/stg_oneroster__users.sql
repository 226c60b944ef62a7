with source as (
    select * from {{ source('raw_oneroster', 'users') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as user_id,
        {{ oneroster_record_columns() }}
        {{ parse_boolean('enabled_user') }} as is_enabled_user,
        {{ split_list('org_sourced_ids') }} as org_ids,
        {{ clean_enum('role') }} as user_role,
        {{ clean_text('username') }} as username,
        {{ split_list('user_ids') }} as external_user_ids,
        {{ clean_text('given_name') }} as given_name,
        {{ clean_text('family_name') }} as family_name,
        {{ clean_text('middle_name') }} as middle_name,
        {{ clean_text('identifier') }} as user_identifier,
        {{ clean_text('email') }} as email,
        {{ clean_text('sms') }} as sms,
        {{ clean_text('phone') }} as phone,
        {{ split_list('agent_sourced_ids') }} as agent_user_ids,
        {{ split_list('grades') }} as grades,
        {{ clean_text('user_master_identifier') }} as user_master_identifier,
        {{ clean_text('preferred_given_name') }} as preferred_given_name,
        {{ clean_text('preferred_middle_name') }} as preferred_middle_name,
        {{ clean_text('preferred_family_name') }} as preferred_family_name,
        {{ clean_text('primary_org_sourced_id') }} as primary_org_id,
        {{ clean_text('pronouns') }} as pronouns,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
