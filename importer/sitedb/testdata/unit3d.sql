-- The UNIT3D tables and columns `ratioguard import site --from unit3d` reads
-- besides the write-back's (ingest/site/testdata/unit3d.sql, loaded first:
-- users, torrents, history, peers), as UNIT3D publishes them in
-- database/schema/mysql-schema.sql, keeping only the columns it reads and
-- the keys.
-- Source: github.com/HDInnovations/UNIT3D-Community-Edition at
--   44a3aeac1959e15e62cbdfdf6b3f293cb46efb78, database/schema/mysql-schema.sql.

CREATE TABLE `groups` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  `slug` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  `download_slots` int DEFAULT NULL,
  `is_immune` tinyint(1) NOT NULL DEFAULT '0',
  `is_freeleech` tinyint(1) NOT NULL DEFAULT '0',
  `is_double_upload` tinyint(1) NOT NULL DEFAULT '0',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE `users`
  ADD COLUMN `username` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  ADD COLUMN `passkey` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  ADD COLUMN `group_id` int NOT NULL,
  ADD COLUMN `seedbonus` decimal(12,2) NOT NULL DEFAULT '0.00',
  ADD COLUMN `can_download` tinyint(1) NOT NULL DEFAULT '1',
  ADD COLUMN `created_at` timestamp NULL DEFAULT NULL,
  ADD COLUMN `deleted_at` timestamp NULL DEFAULT NULL;

CREATE TABLE `invites` (
  `id` int unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int unsigned NOT NULL,
  `accepted_by` int unsigned DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE `torrents`
  ADD COLUMN `name` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  ADD COLUMN `size` double NOT NULL,
  ADD COLUMN `user_id` int unsigned NOT NULL,
  ADD COLUMN `free` smallint NOT NULL DEFAULT '0',
  ADD COLUMN `doubleup` tinyint(1) NOT NULL DEFAULT '0',
  ADD COLUMN `featured` tinyint(1) NOT NULL DEFAULT '0',
  ADD COLUMN `status` smallint NOT NULL DEFAULT '0',
  ADD COLUMN `created_at` timestamp NULL DEFAULT NULL,
  ADD COLUMN `deleted_at` timestamp NULL DEFAULT NULL,
  ADD COLUMN `fl_until` datetime DEFAULT NULL,
  ADD COLUMN `du_until` datetime DEFAULT NULL,
  ADD COLUMN `info_hash` binary(20) NOT NULL,
  ADD UNIQUE KEY `torrents_info_hash_unique` (`info_hash`);

CREATE TABLE `freeleech_tokens` (
  `id` int unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int unsigned NOT NULL,
  `torrent_id` int unsigned NOT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `blacklist_clients` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  `reason` longtext COLLATE utf8mb4_unicode_ci,
  `peer_id_prefix` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `personal_freeleeches` (
  `id` int unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int unsigned NOT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
