INSERT INTO ledger_adjustments (
    user_id, torrent_id, credited_uploaded, credited_downloaded, bonus_points,
    reason, report_id, actor)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (report_id, user_id, COALESCE(torrent_id, 0)) WHERE report_id IS NOT NULL
DO NOTHING
RETURNING id
