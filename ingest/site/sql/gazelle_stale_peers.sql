-- Active peers whose last announce is older than the cutoff (Unix seconds):
-- the tracker has dropped them. (torrent, user, peer_id, seeder), locked.
SELECT fid, uid, peer_id, remaining = 0 FROM xbt_files_users WHERE active = 1 AND mtime < ? FOR UPDATE
