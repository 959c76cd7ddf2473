-- Nothing is inserted when the adjustment was already applied: the same
-- report for the same member and torrent (ledger_adjustments_report_once),
-- or the same idempotency key.
INSERT INTO ledger_adjustments (
    user_id, torrent_id, credited_uploaded, credited_downloaded, bonus_points,
    reason, report_id, actor, idempotency_key, seedtime_seconds)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT DO NOTHING
RETURNING id
