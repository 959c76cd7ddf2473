-- Today's sample of cumulative seedtime for every snatch announced within
-- the window (+1 day), the site's seeding included as in members.sql; the
-- first sample of a day wins. $1 now, $2 window (s).
INSERT INTO enforce_seed_samples (user_id, torrent_id, sample_day, sampled_at, seedtime_seconds)
SELECT user_id, torrent_id, ($1::timestamptz AT TIME ZONE 'UTC')::date, $1, seedtime_seconds
FROM ledger_snatch_record
WHERE snatched_at IS NOT NULL AND last_announce_at >= $1::timestamptz - make_interval(secs => $2 + 86400)
ON CONFLICT (user_id, torrent_id, sample_day) DO NOTHING
