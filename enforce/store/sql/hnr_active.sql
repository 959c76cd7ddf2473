-- Active hit-and-run warnings that stop counting now: expired at $1, or the
-- member has since seeded the torrent for $2 seconds (the site's seeding
-- included).
SELECT w.id, w.user_id, u.name, w.torrent_id, t.name, w.expires_at, COALESCE(ut.seedtime_seconds, 0)
FROM enforce_hnr_warnings w
JOIN users u ON u.id = w.user_id
JOIN torrents t ON t.id = w.torrent_id
LEFT JOIN ledger_snatch_record ut ON ut.user_id = w.user_id AND ut.torrent_id = w.torrent_id
WHERE w.lifted_at IS NULL AND (w.expires_at <= $1 OR COALESCE(ut.seedtime_seconds, 0) >= $2)
ORDER BY w.user_id, w.id
