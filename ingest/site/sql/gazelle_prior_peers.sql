-- (torrent, user, peer_id, active, seeder) of the peers a batch touches, locked.
SELECT fid, uid, peer_id, active, remaining = 0 FROM xbt_files_users WHERE (fid, uid, peer_id) IN ({{values}}) FOR UPDATE
