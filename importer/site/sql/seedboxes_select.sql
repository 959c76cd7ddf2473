-- Declared seedbox ranges of the members whose set the file gives.
SELECT id, user_id, cidr::text
FROM seedbox_ranges
WHERE user_id = ANY ($1::bigint[])
