INSERT INTO staff_sessions (token_hash, staff_id, expires_at) VALUES ($1, $2, $3)
