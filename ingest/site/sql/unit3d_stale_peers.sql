-- Active peers whose last announce is older than the cutoff: the tracker has
-- dropped them. (torrent, user, peer_id, seeder), locked.
SELECT torrent_id, user_id, peer_id, seeder FROM peers WHERE active = 1 AND updated_at < ? FOR UPDATE
