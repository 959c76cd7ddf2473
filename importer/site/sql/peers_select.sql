-- The old tracker's peers kept for members $1.
SELECT user_id, torrent_id, peer_id, host(ip), port, uploaded, downloaded, left_bytes, announced_at
FROM site_peers
WHERE user_id = ANY ($1::bigint[])
