SELECT user_id, torrent_id FROM ratioguard_token_expiry ORDER BY queued_at, user_id, torrent_id LIMIT ?
