INSERT INTO seedbox_ranges (user_id, cidr, counts_for_ip_cap, note)
VALUES ($1, $2, $3, $4)
RETURNING id
