-- One torrent by internal id ($1), site id ($2) or info_hash ($3); the others NULL.
SELECT id FROM torrents
WHERE ($1::bigint IS NOT NULL AND id = $1)
   OR ($2::bigint IS NOT NULL AND site_id = $2)
   OR ($3::bytea IS NOT NULL AND info_hash = $3)
