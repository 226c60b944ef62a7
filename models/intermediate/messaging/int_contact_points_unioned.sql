-- One row per person and way to reach them: voice on each phone, sms on the OneRoster sms number
-- and on non-toll-free phones (opt-in assumed from the SIS), email on the email address.
{%- set points = [
    {'channel': 'voice', 'point': 'phone_digits', 'valid': 'phone_is_valid', 'rank': 1, 'sms': false},
    {'channel': 'voice', 'point': 'alternate_phone_digits', 'valid': 'alternate_phone_is_valid', 'rank': 2, 'sms': false},
    {'channel': 'sms', 'point': 'sms_digits', 'valid': 'true', 'rank': 0, 'sms': false},
    {'channel': 'sms', 'point': 'phone_digits', 'valid': 'phone_is_valid', 'rank': 1, 'sms': true},
    {'channel': 'sms', 'point': 'alternate_phone_digits', 'valid': 'alternate_phone_is_valid', 'rank': 2, 'sms': true},
    {'channel': 'email', 'point': 'email', 'valid': 'true', 'rank': 1, 'sms': false},
] %}

with users as (
    select * from {{ ref('int_users_unioned') }}
),

points as (
    {%- for point in points %}
        select
            district_id,
            user_id,
            '{{ point.channel }}' as channel,
            {{ point.point }} as contact_point,
            {{ point.valid }} as is_valid,
            {{ point.rank }} as rank_in_channel
        from users
        where
            {{ point.point }} is not null
            {%- if point.sms %} and {{ is_sms_capable(point.point) }}{% endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        district_id,
        user_id,
        channel,
        contact_point,
        bool_and(coalesce(is_valid, false)) as is_valid,
        min(rank_in_channel) as rank_in_channel
    from points
    group by district_id, user_id, channel, contact_point
)

select * from final
