DELETE FROM ratioguard_token_expiry WHERE user_id = ? AND torrent_id = ?
