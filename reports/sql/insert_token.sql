INSERT INTO staff_api_tokens (staff_id, name, token_hash, scopes, expires_at)
SELECT s.id, $2, $3, $4, $5 FROM staff s WHERE s.id = $1 AND NOT s.disabled
RETURNING id
