-- New members; created_at NULL is now.
INSERT INTO users (name, passkey, class, enabled, created_at)
SELECT v.name, v.passkey, v.class, v.enabled, COALESCE(v.created_at, now())
FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::timestamptz[])
    AS v (name, passkey, class, enabled, created_at)
RETURNING id, name
