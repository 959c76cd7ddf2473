-- New members; created_at NULL is now, site_id NULL: the site's id unknown.
INSERT INTO users (name, passkey, class, enabled, created_at, site_id)
SELECT v.name, v.passkey, v.class, v.enabled, COALESCE(v.created_at, now()), v.site_id
FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::timestamptz[], $6::bigint[])
    AS v (name, passkey, class, enabled, created_at, site_id)
RETURNING id, name
