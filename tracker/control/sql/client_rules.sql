SELECT id, peer_id_prefix, coalesce(min_version, ''), coalesce(max_version, ''), coalesce(ua_family, ''),
       allowed, reason
FROM client_rules
ORDER BY id
