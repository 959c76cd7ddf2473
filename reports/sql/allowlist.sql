-- Detector allowlist entries, every one or the networks overlapping $1 (NULL: all).
SELECT a.id, a.kind, a.user_id, COALESCE(u.name, ''), COALESCE(a.cidr::text, ''), a.reason, a.created_by, a.created_at
FROM detector_allowlist a
LEFT JOIN users u ON u.id = a.user_id
WHERE $1::cidr IS NULL OR a.cidr && $1::cidr
ORDER BY a.created_at DESC
LIMIT 1000
