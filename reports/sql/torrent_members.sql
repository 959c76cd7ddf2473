-- The members of a torrent's ledger: snatchers and the latest announcers,
-- with what they reported here (raw) and were credited; snatches imported
-- from the site (docs/IMPORT.md) are among them, their seeding there added.
SELECT l.user_id, u.name, l.raw_uploaded::text, l.raw_downloaded::text, l.credited_uploaded::text,
       l.credited_downloaded::text, l.seedtime_seconds, l.snatched_at, l.last_announce_at, l.last_left = 0
FROM ledger_snatch_record l
JOIN users u ON u.id = l.user_id
WHERE l.torrent_id = $1
ORDER BY l.last_announce_at DESC
LIMIT 200
