DELETE FROM seedbox_ranges WHERE id = ANY ($1::bigint[])
