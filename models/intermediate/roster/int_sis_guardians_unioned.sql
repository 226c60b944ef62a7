-- One row per SIS guardian and student they are linked to, from all three guardian layouts:
-- two files (guardians.csv names the student), three files (guardians + association file) and
-- one file (repeated Guardian N columns on the student row).
with guardians as (
    select * from {{ ref('stg_sis__guardians') }}
),

links as (
    select * from {{ ref('stg_sis__guardian_links') }}
),

students as (
    select * from {{ ref('stg_sis__students') }}
    where guardians_json is not null
),

two_file as (
    select
        district_id,
        guardian_id,
        student_id,
        category,
        first_name,
        last_name,
        email,
        phone_digits,
        phone_is_valid,
        alternate_phone_digits,
        alternate_phone_is_valid,
        language_code,
        'two-file' as guardian_layout
    from guardians
    where student_id is not null
),

three_file as (
    select
        guardians.district_id,
        guardians.guardian_id,
        links.student_id,
        coalesce(links.category, guardians.category) as category,
        guardians.first_name,
        guardians.last_name,
        guardians.email,
        guardians.phone_digits,
        guardians.phone_is_valid,
        guardians.alternate_phone_digits,
        guardians.alternate_phone_is_valid,
        guardians.language_code,
        'three-file' as guardian_layout
    from guardians
    inner join links
        on
            guardians.district_id = links.district_id
            and guardians.guardian_id = links.guardian_id
    where guardians.student_id is null
),

wide_items as (
    select
        district_id,
        student_id,
        {{ unnest_json_list('guardians_json') }} as item
    from students
),

one_file as (
    select
        district_id,
        {{ json_text('item', 'guardian_id') }} as guardian_id,
        student_id,
        {{ json_text('item', 'category') }} as category,
        {{ json_text('item', 'first_name') }} as first_name,
        {{ json_text('item', 'last_name') }} as last_name,
        lower({{ json_text('item', 'email') }}) as email,
        {{ json_text('item', 'phone_digits') }} as phone_digits,
        cast({{ json_text('item', 'phone_is_valid') }} as boolean) as phone_is_valid,
        {{ json_text('item', 'alternate_phone_digits') }} as alternate_phone_digits,
        cast({{ json_text('item', 'alternate_phone_is_valid') }} as boolean) as alternate_phone_is_valid,
        coalesce(lower({{ json_text('item', 'language_code') }}), 'en') as language_code,
        'one-file' as guardian_layout
    from wide_items
),

unioned as (
    select * from two_file
    union all
    select * from three_file
    union all
    select * from one_file
),

final as (
    select
        *,
        case
            when lower(category) in ('mother', 'father', 'parent', 'stepmother', 'stepfather') then 'parent'
            when lower(category) in ('guardian', 'legal guardian', 'foster parent') then 'guardian'
            when category is null then 'guardian'
            else 'relative'
        end as user_role
    from unioned
    where guardian_id is not null
)

select * from final
