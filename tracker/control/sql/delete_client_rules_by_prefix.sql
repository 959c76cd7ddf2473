-- Ocelot's whitelist and UNIT3D's blacklist address rules by prefix.
DELETE FROM client_rules WHERE peer_id_prefix = $1 AND allowed = $2
