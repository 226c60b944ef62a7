-- One row per person, channel and contact point, with whether a message may be sent to it:
-- valid, not opted out (the latest opt-out/opt-in event for the point and channel, or for
-- all channels, decides; the rosters never overwrite it), in the person's language.
with points as (
    select * from {{ ref('int_contact_points_unioned') }}
),

users as (
    select * from {{ ref('int_users_unioned') }}
),

preferences as (
    select * from {{ ref('stg_messaging__opt_outs') }}
),

latest_preference as (
    select
        points.district_id,
        points.user_id,
        points.channel,
        points.contact_point,
        preferences.preference,
        preferences.recorded_date,
        row_number() over (
            partition by points.district_id, points.user_id, points.channel, points.contact_point
            order by preferences.recorded_date desc, preferences.loaded_at desc
        ) as preference_rank
    from points
    inner join preferences
        on
            points.district_id = preferences.district_id
            and points.contact_point = preferences.contact_point
            and preferences.channel in (points.channel, 'all')
),

final as (
    select
        {{ skey('k_contact', 'points') }}
            as k_contact,
        points.district_id,
        points.user_id,
        users.user_role,
        users.source_system,
        points.channel,
        points.contact_point,
        points.rank_in_channel,
        points.is_valid,
        users.language_code,
        latest_preference.recorded_date as preference_recorded_date,
        coalesce(latest_preference.preference = 'opt_out', false) as is_opted_out,
        points.is_valid and not coalesce(latest_preference.preference = 'opt_out', false) as is_contactable
    from points
    inner join users
        on
            points.district_id = users.district_id
            and points.user_id = users.user_id
    left join latest_preference
        on
            points.district_id = latest_preference.district_id
            and points.user_id = latest_preference.user_id
            and points.channel = latest_preference.channel
            and points.contact_point = latest_preference.contact_point
            and latest_preference.preference_rank = 1
)

select * from final
