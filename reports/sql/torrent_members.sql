-- The members of a torrent's ledger: snatchers and the latest announcers,
-- with what they reported here (raw) and were credited.
SELECT l.user_id, u.name, l.raw_uploaded::text, l.raw_downloaded::text, l.credited_uploaded::text,
       l.credited_downloaded::text, l.seedtime_seconds, l.snatched_at, l.last_announce_at, l.last_left = 0
FROM ledger_user_torrents l
JOIN users u ON u.id = l.user_id
WHERE l.torrent_id = $1
ORDER BY l.last_announce_at DESC
LIMIT 200
