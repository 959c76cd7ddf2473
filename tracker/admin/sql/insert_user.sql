INSERT INTO users (name, passkey, class)
VALUES ($1, $2, $3)
RETURNING id
