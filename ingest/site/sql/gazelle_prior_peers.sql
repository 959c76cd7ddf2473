-- (torrent, user, peer_id, active, seeder) of the peers a batch touches, locked
-- (the listed rows first, then the primary key: MariaDB scans the table for a
-- long row IN list, and may scan it for a join it orders the other way).
SELECT STRAIGHT_JOIN x.fid, x.uid, x.peer_id, x.active, x.remaining = 0
FROM ({{rows:t,u,p=binary}}) d JOIN xbt_files_users x ON x.fid = d.t AND x.uid = d.u AND x.peer_id = d.p
FOR UPDATE
