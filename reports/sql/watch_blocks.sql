-- Leech blocks ordered by verdicts and leeching turned off by enforce.
SELECT 'verdict', b.user_id, u.name, b.report_id, b.reason, b.created_at
FROM enforce_leech_blocks b JOIN users u ON u.id = b.user_id
UNION ALL
SELECT 'enforce', h.user_id, u.name, NULL, h.reason, h.disabled_at
FROM enforce_leech_holds h JOIN users u ON u.id = h.user_id
ORDER BY 6 DESC
LIMIT 1000
