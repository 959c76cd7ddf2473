INSERT INTO staff (name, password_hash, role) VALUES ($1, $2, $3)
RETURNING id, name, role
