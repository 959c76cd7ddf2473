INSERT INTO seedbox_ranges (user_id, cidr, note)
SELECT v.user_id, v.cidr::cidr, 'declared on the site (import site)'
FROM unnest($1::bigint[], $2::text[]) AS v (user_id, cidr)
