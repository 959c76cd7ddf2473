-- Allowlist entries that cover a member: by id, or a network one of their
-- declared seedbox ranges overlaps.
SELECT a.id, a.kind, COALESCE(a.cidr::text, ''), a.reason, a.created_by, a.created_at
FROM detector_allowlist a
WHERE a.user_id = $1
   OR (a.kind = 'network' AND EXISTS (SELECT 1 FROM seedbox_ranges s WHERE s.user_id = $1 AND s.cidr && a.cidr))
ORDER BY a.created_at DESC
