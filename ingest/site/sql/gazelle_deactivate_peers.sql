UPDATE xbt_files_users SET active = 0, upspeed = 0, downspeed = 0 WHERE (fid, uid, peer_id) IN ({{values}})
