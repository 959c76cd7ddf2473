UPDATE ({{rows:u,t,p=binary}}) d STRAIGHT_JOIN peers x ON x.user_id = d.u AND x.torrent_id = d.t AND x.peer_id = d.p
SET x.active = 0
