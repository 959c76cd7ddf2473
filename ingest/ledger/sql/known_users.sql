SELECT id FROM users WHERE id = ANY($1::bigint[])
