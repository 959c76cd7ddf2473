-- Members whose record differs from their row: every column as it must end up.
UPDATE users u
SET passkey = v.passkey, class = v.class, enabled = v.enabled, created_at = v.created_at,
    site_id = v.site_id, updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::boolean[], $5::timestamptz[], $6::bigint[])
    AS v (id, passkey, class, enabled, created_at, site_id)
WHERE u.id = v.id
