-- The UNIT3D tables the write-back writes, as UNIT3D publishes them in
-- database/schema/mysql-schema.sql, keeping only the columns the write-back
-- touches, the primary keys its statements rely on and the foreign keys
-- between these tables (users and torrents are the site's rows: the
-- write-back only updates their stats columns; secondary keys and the other
-- foreign keys are left out).
-- Source: github.com/HDInnovations/UNIT3D-Community-Edition at
--   44a3aeac1959e15e62cbdfdf6b3f293cb46efb78, database/schema/mysql-schema.sql.

CREATE TABLE `users` (
  `id` int unsigned NOT NULL AUTO_INCREMENT,
  `uploaded` bigint unsigned NOT NULL DEFAULT '0',
  `downloaded` bigint unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `torrents` (
  `id` int unsigned NOT NULL AUTO_INCREMENT,
  `leechers` int NOT NULL DEFAULT '0',
  `seeders` int NOT NULL DEFAULT '0',
  `times_completed` int NOT NULL DEFAULT '0',
  `balance` bigint DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `history` (
  `user_id` int unsigned NOT NULL,
  `torrent_id` int unsigned NOT NULL,
  `agent` varchar(64) COLLATE utf8mb4_unicode_ci NOT NULL,
  `uploaded` bigint unsigned NOT NULL DEFAULT '0',
  `actual_uploaded` bigint unsigned NOT NULL DEFAULT '0',
  `client_uploaded` bigint unsigned NOT NULL,
  `downloaded` bigint unsigned NOT NULL DEFAULT '0',
  `actual_downloaded` bigint unsigned NOT NULL DEFAULT '0',
  `client_downloaded` bigint unsigned NOT NULL,
  `seeder` tinyint(1) NOT NULL,
  `active` tinyint(1) NOT NULL DEFAULT '1',
  `seedtime` bigint unsigned NOT NULL DEFAULT '0',
  `immune` tinyint(1) NOT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  `completed_at` datetime DEFAULT NULL,
  PRIMARY KEY (`user_id`,`torrent_id`),
  CONSTRAINT `history_torrent_id_foreign` FOREIGN KEY (`torrent_id`) REFERENCES `torrents` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `history_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `peers` (
  `peer_id` binary(20) NOT NULL,
  `ip` varbinary(16) NOT NULL,
  `port` smallint unsigned NOT NULL,
  `agent` varchar(64) COLLATE utf8mb4_unicode_ci NOT NULL,
  `uploaded` bigint unsigned NOT NULL,
  `downloaded` bigint unsigned NOT NULL,
  `left` bigint unsigned NOT NULL,
  `seeder` tinyint(1) NOT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  `torrent_id` int unsigned NOT NULL,
  `user_id` int unsigned NOT NULL,
  `connectable` tinyint(1) NOT NULL DEFAULT '0',
  `active` tinyint(1) NOT NULL,
  `visible` tinyint(1) NOT NULL,
  PRIMARY KEY (`user_id`,`torrent_id`,`peer_id`),
  CONSTRAINT `peers_torrent_id_foreign` FOREIGN KEY (`torrent_id`) REFERENCES `torrents` (`id`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `peers_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
