-- (torrent, user, peer_id, active, seeder) of the peers a batch touches, locked
-- (the listed rows first, then the primary key: MariaDB scans the table for a
-- long row IN list, and may scan it for a join it orders the other way).
SELECT STRAIGHT_JOIN x.torrent_id, x.user_id, x.peer_id, x.active, x.seeder
FROM ({{rows:u,t,p=binary}}) d JOIN peers x ON x.user_id = d.u AND x.torrent_id = d.t AND x.peer_id = d.p
FOR UPDATE
