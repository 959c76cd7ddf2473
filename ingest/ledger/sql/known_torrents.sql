SELECT id FROM torrents WHERE id = ANY($1::bigint[])
