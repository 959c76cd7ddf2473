SELECT peer_id_prefix, coalesce(ua_family, '') FROM client_rules WHERE allowed AND ua_family IS NOT NULL
