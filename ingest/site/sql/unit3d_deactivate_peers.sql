UPDATE peers SET active = 0 WHERE (user_id, torrent_id, peer_id) IN ({{values}})
