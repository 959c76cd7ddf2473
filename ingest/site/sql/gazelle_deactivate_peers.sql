UPDATE ({{rows:t,u,p=binary}}) d STRAIGHT_JOIN xbt_files_users x ON x.fid = d.t AND x.uid = d.u AND x.peer_id = d.p
SET x.active = 0, x.upspeed = 0, x.downspeed = 0
