INSERT INTO detector_allowlist (kind, user_id, cidr, reason, created_by)
VALUES ($1, $2, $3::cidr, $4, $5)
RETURNING id
