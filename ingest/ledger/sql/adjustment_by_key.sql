SELECT id, user_id, coalesce(torrent_id, 0), credited_uploaded::bigint, credited_downloaded::bigint,
       bonus_points::float8, reason, seedtime_seconds
FROM ledger_adjustments
WHERE idempotency_key = $1
