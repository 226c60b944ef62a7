-- Current PowerSchool students: the rows of each district's latest landed export (a snapshot).
with source as (
    {{ mapped_source('raw_powerschool', 'students') }}
),

latest as (
    {{ latest_mapped_file('source') }}
),

renamed as (
    select
        _district_id as district_id,
        {{ clean_text('student_number') }} as student_number,
        {{ clean_text('powerschool_id') }} as powerschool_id,
        {{ clean_text('state_id') }} as state_id,
        {{ clean_text('school_id') }} as school_id,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('middle_name') }} as middle_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('grade_level') }} as grade_level,
        {{ clean_email('email') }} as email,
        {{ clean_text('home_phone') }} as home_phone,
        {{ clean_text('home_phone_digits') }} as home_phone_digits,
        home_phone_is_valid as is_home_phone_valid,
        {{ clean_text('gender') }} as gender,
        {{ parse_date('birth_date') }} as birth_date,
        {{ clean_text('enroll_status') }} as enrollment_status_code,
        {{ parse_date('entry_date') }} as entry_date,
        {{ parse_date('exit_date') }} as exit_date,
        {{ clean_text('district_number') }} as district_number,
        {{ clean_text('district_name') }} as district_name,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
