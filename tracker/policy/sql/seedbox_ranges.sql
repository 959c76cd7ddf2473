SELECT user_id, cidr::text, counts_for_ip_cap
FROM seedbox_ranges
ORDER BY id
