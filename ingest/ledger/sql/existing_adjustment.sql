SELECT id FROM ledger_adjustments
WHERE report_id = $1 AND user_id = $2 AND COALESCE(torrent_id, 0) = COALESCE($3::bigint, 0)
