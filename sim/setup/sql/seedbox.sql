-- Declared seedbox ranges of a run's members.
INSERT INTO seedbox_ranges (user_id, cidr, note)
SELECT s.user_id, s.cidr::cidr, 'declared seedbox (simulated)'
FROM unnest($1::bigint[], $2::text[]) AS s (user_id, cidr)
ON CONFLICT (user_id, cidr) DO NOTHING
