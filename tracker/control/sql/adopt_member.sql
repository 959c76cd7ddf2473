-- A member already here (imported without a site id) that the site now
-- names by its id: $1 passkey, $2 site id.
UPDATE users SET site_id = $2, updated_at = now()
WHERE passkey = $1 AND site_id IS NULL
RETURNING id
