-- Members outside the file ($2: its names) that hold one of its site ids ($1).
SELECT id, name, site_id
FROM users
WHERE site_id = ANY ($1::bigint[]) AND name <> ALL ($2::text[])
