SELECT id, site_id FROM users WHERE id = ANY($1::bigint[]) AND site_id IS NOT NULL
