DELETE FROM seedbox_ranges WHERE id = $1
