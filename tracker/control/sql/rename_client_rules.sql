UPDATE client_rules SET peer_id_prefix = $2 WHERE peer_id_prefix = $1 AND allowed = $3
