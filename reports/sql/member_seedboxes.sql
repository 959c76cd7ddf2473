SELECT s.id, s.cidr::text, s.counts_for_ip_cap, s.note, s.created_at
FROM seedbox_ranges s WHERE s.user_id = $1 ORDER BY s.cidr
