SELECT id, name FROM users WHERE id = ANY($1)
