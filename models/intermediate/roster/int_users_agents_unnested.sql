-- Bridge: one row per user and related user (users.agentSourcedIds), e.g. student -> guardian.
{{ list_bridge(ref('stg_oneroster__users'), 'user_id', 'agent_user_ids', 'agent_user_id') }}
