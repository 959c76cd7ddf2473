-- Declared seedbox ranges, every one or those overlapping $1 (NULL: all).
SELECT s.id, s.user_id, u.name, s.cidr::text, s.counts_for_ip_cap, s.note, s.created_at
FROM seedbox_ranges s
JOIN users u ON u.id = s.user_id
WHERE $1::cidr IS NULL OR s.cidr && $1::cidr
ORDER BY s.cidr, u.name
LIMIT 1000
