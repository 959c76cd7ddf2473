-- One member by internal id ($1), site id ($2) or passkey ($3); the others NULL.
SELECT id FROM users
WHERE ($1::bigint IS NOT NULL AND id = $1)
   OR ($2::bigint IS NOT NULL AND site_id = $2)
   OR ($3::text IS NOT NULL AND passkey = $3)
