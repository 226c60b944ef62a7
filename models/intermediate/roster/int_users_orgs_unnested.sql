-- Bridge: one row per user and org they belong to (users.orgSourcedIds), in list order.
{{ list_bridge(ref('stg_oneroster__users'), 'user_id', 'org_ids', 'org_id') }}
