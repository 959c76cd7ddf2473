-- (torrent, user, peer_id, active, seeder) of the peers a batch touches, locked.
SELECT torrent_id, user_id, peer_id, active, seeder FROM peers WHERE (user_id, torrent_id, peer_id) IN ({{values}}) FOR UPDATE
