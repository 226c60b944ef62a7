-- Current ClassLink accounts: the rows of each district's latest landed export (a snapshot).
with source as (
    {{ mapped_source('raw_classlink', 'users') }}
),

latest as (
    {{ latest_mapped_file('source') }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('sourced_id') }} as user_id,
        {{ clean_email('email') }} as email,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_enum('role') }} as user_role,
        {{ clean_text('login_id') }} as login_id,
        {{ clean_text('student_number') }} as student_number,
        {{ clean_text('state_id') }} as state_id,
        {{ clean_text('building') }} as building_name,
        {{ clean_text('tenant_id') }} as tenant_id,
        {{ clean_text('tenant_name') }} as tenant_name,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
