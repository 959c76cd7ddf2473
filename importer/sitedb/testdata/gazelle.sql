-- The Gazelle (OPS) tables `ratioguard import site --from gazelle` reads
-- besides the write-back's (ingest/site/testdata/gazelle.sql, loaded
-- first: users_leech_stats, xbt_files_users, xbt_snatched,
-- users_freeleeches), keeping only the columns it reads and the keys.
-- Source: github.com/OPSnet/Gazelle at 71b45155dbb91300ccbac4107bd6c5849be047e7,
--   misc/phinx/migrations/20180104060449_tables.php (users_main, permissions,
--     torrents, torrents_group, xbt_client_whitelist),
--   misc/phinx/migrations/20200321194350_user_bonus_table.php (user_bonus),
--   misc/phinx/migrations/20230515000000_more_user_info_columns.php
--     (users_main.inviter_user_id),
--   misc/phinx/migrations/20240904000000_table_collation_0900.php
--     (torrent_pass char(32), FreeTorrent enum('0','1','2')),
--   app/User.php and app/Torrent.php (users_main.created, torrents.created).

CREATE TABLE permissions (
  ID int(10) NOT NULL AUTO_INCREMENT,
  Level int(10) NOT NULL,
  Name varchar(32) NOT NULL,
  PRIMARY KEY (ID)
) ENGINE=InnoDB;

CREATE TABLE users_main (
  ID int(10) NOT NULL AUTO_INCREMENT,
  Username varchar(20) NOT NULL,
  Enabled enum('0','1','2') NOT NULL DEFAULT '0',
  PermissionID int(10) NOT NULL,
  can_leech tinyint(4) NOT NULL DEFAULT 1,
  torrent_pass char(32) NOT NULL,
  inviter_user_id int(10) NOT NULL DEFAULT 0,
  created datetime NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (ID),
  UNIQUE KEY Username (Username)
) ENGINE=InnoDB;

CREATE TABLE torrents_group (
  ID int(10) NOT NULL AUTO_INCREMENT,
  Name varchar(300) NOT NULL,
  PRIMARY KEY (ID)
) ENGINE=InnoDB;

CREATE TABLE torrents (
  ID int(10) NOT NULL AUTO_INCREMENT,
  GroupID int(10) NOT NULL,
  UserID int(10) DEFAULT NULL,
  info_hash blob NOT NULL,
  Size bigint(12) NOT NULL,
  FreeTorrent enum('0','1','2') NOT NULL DEFAULT '0',
  created datetime NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (ID),
  UNIQUE KEY InfoHash (info_hash(40))
) ENGINE=InnoDB;

CREATE TABLE xbt_client_whitelist (
  id int(10) NOT NULL AUTO_INCREMENT,
  peer_id varchar(20) DEFAULT NULL,
  vstring varchar(200) DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY peer_id (peer_id)
) ENGINE=InnoDB;

CREATE TABLE user_bonus (
  user_id int(10) NOT NULL,
  points float(20,5) NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB;
