-- The old tracker's peers written or changed.
INSERT INTO site_peers AS p (user_id, torrent_id, peer_id, ip, port, uploaded, downloaded, left_bytes, announced_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::text[]::inet[], $5::integer[], $6::bigint[],
                     $7::bigint[], $8::bigint[], $9::timestamptz[])
ON CONFLICT (user_id, torrent_id, peer_id) DO UPDATE SET
    ip           = EXCLUDED.ip,
    port         = EXCLUDED.port,
    uploaded     = EXCLUDED.uploaded,
    downloaded   = EXCLUDED.downloaded,
    left_bytes   = EXCLUDED.left_bytes,
    announced_at = EXCLUDED.announced_at,
    imported_at  = now()
