SELECT a.id, a.torrent_id, COALESCE(t.name, ''), a.credited_uploaded::text, a.credited_downloaded::text,
       a.bonus_points::text, a.reason, a.report_id, a.actor, a.created_at
FROM ledger_adjustments a
LEFT JOIN torrents t ON t.id = a.torrent_id
WHERE a.user_id = $1
ORDER BY a.created_at DESC, a.id DESC
LIMIT 200
