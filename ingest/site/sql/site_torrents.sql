SELECT id, site_id FROM torrents WHERE id = ANY($1::bigint[]) AND site_id IS NOT NULL
