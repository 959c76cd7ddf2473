-- One row per peer (Ocelot's "heavy" record): counters as the client last
-- reported them; announced and timespent grow by the batch's announces.
INSERT INTO xbt_files_users (uid, fid, peer_id, active, uploaded, downloaded, remaining, corrupt,
  upspeed, downspeed, timespent, announced, ip, useragent, mtime) VALUES {{values}}
ON DUPLICATE KEY UPDATE active = VALUES(active), uploaded = VALUES(uploaded), downloaded = VALUES(downloaded),
  remaining = VALUES(remaining), corrupt = VALUES(corrupt), upspeed = VALUES(upspeed), downspeed = VALUES(downspeed),
  timespent = timespent + VALUES(timespent), announced = announced + VALUES(announced),
  ip = VALUES(ip), useragent = VALUES(useragent), mtime = VALUES(mtime)
