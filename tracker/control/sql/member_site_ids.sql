-- Site ids of members by internal id (peers shown to a site name its members).
SELECT id, site_id FROM users WHERE id = ANY($1) AND site_id IS NOT NULL
