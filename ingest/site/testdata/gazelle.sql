-- The Gazelle (OPS) tables the write-back writes, as Gazelle's phinx
-- migrations create them, keeping only the columns the write-back touches
-- and the keys its statements rely on; foreign keys to users_main and
-- torrents are left out (those tables are the site's, not ours).
-- Source: github.com/OPSnet/Gazelle at 71b45155dbb91300ccbac4107bd6c5849be047e7,
--   misc/phinx/migrations/20180104060449_tables.php (users_freeleeches,
--     xbt_snatched, xbt_files_users),
--   misc/phinx/migrations/20190422111146_torrent_stats_tables.php
--     (users_leech_stats, torrents_leech_stats),
--   misc/phinx/migrations/20210116174853_index_xbt_files_users.php
--     (xbt_files_users primary key fid, uid, peer_id).

CREATE TABLE users_leech_stats (
  UserID int(10) unsigned NOT NULL,
  Uploaded bigint(20) unsigned NOT NULL DEFAULT 0,
  Downloaded bigint(20) unsigned NOT NULL DEFAULT 0,
  PRIMARY KEY (UserID)
) ENGINE=InnoDB;

CREATE TABLE torrents_leech_stats (
  TorrentID int(10) NOT NULL,
  Seeders int(6) unsigned NOT NULL DEFAULT 0,
  Leechers int(6) unsigned NOT NULL DEFAULT 0,
  Snatched int(6) unsigned NOT NULL DEFAULT 0,
  Balance bigint(20) NOT NULL DEFAULT 0,
  last_action datetime DEFAULT NULL,
  PRIMARY KEY (TorrentID)
) ENGINE=InnoDB;

CREATE TABLE xbt_files_users (
  uid int(11) NOT NULL,
  active tinyint(1) NOT NULL DEFAULT 1,
  announced int(11) NOT NULL DEFAULT 0,
  completed tinyint(1) NOT NULL DEFAULT 0,
  downloaded bigint(20) NOT NULL DEFAULT 0,
  remaining bigint(20) NOT NULL DEFAULT 0,
  uploaded bigint(20) NOT NULL DEFAULT 0,
  upspeed int(10) unsigned NOT NULL DEFAULT 0,
  downspeed int(10) unsigned NOT NULL DEFAULT 0,
  corrupt bigint(20) NOT NULL DEFAULT 0,
  timespent int(10) unsigned NOT NULL DEFAULT 0,
  useragent varchar(51) NOT NULL DEFAULT '',
  peer_id binary(20) NOT NULL DEFAULT '00000000000000000000',
  fid int(11) NOT NULL,
  mtime int(11) NOT NULL DEFAULT 0,
  ip varchar(15) NOT NULL DEFAULT '',
  PRIMARY KEY (fid, uid, peer_id),
  KEY remaining_idx (remaining),
  KEY mtime_idx (mtime),
  KEY uid_active (uid, active)
) ENGINE=InnoDB;

CREATE TABLE xbt_snatched (
  uid int(11) NOT NULL DEFAULT 0,
  tstamp int(11) NOT NULL,
  fid int(11) NOT NULL,
  IP varchar(15) NOT NULL,
  seedtime int(11) NOT NULL DEFAULT 0,
  KEY fid (fid),
  KEY uid_tstamp (uid, tstamp)
) ENGINE=InnoDB;

CREATE TABLE users_freeleeches (
  UserID int(10) NOT NULL,
  TorrentID int(10) NOT NULL,
  Time datetime NOT NULL,
  Expired tinyint(1) NOT NULL DEFAULT 0,
  Downloaded bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (UserID, TorrentID)
) ENGINE=InnoDB;
