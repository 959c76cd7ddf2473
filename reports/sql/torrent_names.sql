SELECT id, name FROM torrents WHERE id = ANY($1)
