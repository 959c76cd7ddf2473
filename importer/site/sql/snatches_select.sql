-- The site snatches kept for members $1.
SELECT user_id, torrent_id, completed_at, seedtime_seconds, last_seeded_at, uploaded::bigint, downloaded::bigint
FROM ledger_site_snatches
WHERE user_id = ANY ($1::bigint[])
