INSERT INTO client_rules (peer_id_prefix, min_version, max_version, ua_family, allowed, reason)
VALUES ($1, nullif($2, ''), nullif($3, ''), nullif($4, ''), $5, $6)
RETURNING id
