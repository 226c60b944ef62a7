with source as (
    select * from {{ source('raw_oneroster', 'demographics') }}
),

latest as (
    {{ latest_oneroster_records('source') }}
),

renamed as (
    select
        {{ clean_text('sourced_id') }} as user_id,
        {{ oneroster_record_columns() }}
        {{ parse_date('birth_date') }} as birth_date,
        {{ clean_enum('sex') }} as sex,
        {{ parse_boolean('american_indian_or_alaska_native') }} as is_american_indian_or_alaska_native,
        {{ parse_boolean('asian') }} as is_asian,
        {{ parse_boolean('black_or_african_american') }} as is_black_or_african_american,
        {{ parse_boolean('native_hawaiian_or_other_pacific_islander') }} as is_native_hawaiian_or_other_pacific_islander,
        {{ parse_boolean('white') }} as is_white,
        {{ parse_boolean('demographic_race_two_or_more_races') }} as is_two_or_more_races,
        {{ parse_boolean('hispanic_or_latino_ethnicity') }} as is_hispanic_or_latino,
        {{ clean_text('country_of_birth_code') }} as country_of_birth_code,
        {{ clean_text('state_of_birth_abbreviation') }} as state_of_birth_abbreviation,
        {{ clean_text('city_of_birth') }} as city_of_birth,
        {{ clean_text('public_school_residence_status') }} as public_school_residence_status,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
