-- Torrents whose site id changes give it up first (see users_park_site_ids).
UPDATE torrents SET site_id = NULL WHERE id = ANY ($1::bigint[]) AND site_id IS NOT NULL
