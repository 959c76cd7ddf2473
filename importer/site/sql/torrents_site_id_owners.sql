-- Torrents outside the file ($2: its info hashes) that hold one of its site ids ($1).
SELECT id, info_hash, site_id
FROM torrents
WHERE site_id = ANY ($1::bigint[]) AND info_hash <> ALL ($2::bytea[])
