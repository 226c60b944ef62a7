-- One row per user and external identifier from users.userIds ("{LDAP:12},{LTI:15}"):
-- the identifier type and value.
with bridge as (
    {{ list_bridge(ref('stg_oneroster__users'), 'user_id', 'external_user_ids', 'user_id_item') }}
),

final as (
    select
        district_id,
        user_id,
        list_position,
        user_id_item,
        {{ split_user_identifier('user_id_item', 'type') }} as identifier_type,
        {{ split_user_identifier('user_id_item', 'value') }} as identifier_value
    from bridge
)

select * from final
