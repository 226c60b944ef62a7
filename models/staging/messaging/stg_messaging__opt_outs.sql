with source as (
    select * from {{ source('raw_messaging', 'opt_outs') }}
),

latest as (
    {{ latest_mapped_events('source', ['contact_point', 'channel', 'recorded_date', 'action']) }}
),

renamed as (
    select
        _district_id as district_id,
        {{ skey('opt_out_event_id') }} as opt_out_event_id,
        case
            when {{ clean_text('contact_point') }} like '%@%' then lower({{ clean_text('contact_point') }})
            else right({{ digits_only('contact_point') }}, 10)
        end as contact_point,
        {{ clean_text('contact_point') }} like '%@%' as is_email,
        coalesce({{ clean_enum('channel') }}, 'all') as channel,
        case
            when {{ clean_enum('action') }} in ('opt-in', 'optin', 'opt in', 'subscribe', 'in') then 'opt_in'
            else 'opt_out'
        end as preference,
        {{ parse_date('recorded_date') }} as recorded_date,
        {{ clean_text('user_id') }} as user_id,
        {{ clean_text('reason') }} as reason,
        {{ mapped_lineage_columns() }}
    from latest
)

select * from renamed
