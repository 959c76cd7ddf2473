-- The old tracker's peers no longer in their member's list.
DELETE FROM site_peers p
USING unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS x (user_id, torrent_id, peer_id)
WHERE p.user_id = x.user_id AND p.torrent_id = x.torrent_id AND p.peer_id = x.peer_id
