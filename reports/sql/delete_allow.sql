DELETE FROM detector_allowlist WHERE id = $1
RETURNING kind, user_id, cidr::text, reason
