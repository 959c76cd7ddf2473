SELECT id, passkey FROM users WHERE id = ANY($1)
