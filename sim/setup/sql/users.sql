-- Members of a run, created or refreshed by name; returns their ids.
INSERT INTO users (name, passkey, class)
SELECT u.name, u.passkey, u.class
FROM unnest($1::text[], $2::text[], $3::text[]) AS u (name, passkey, class)
ON CONFLICT (name) DO UPDATE SET passkey = EXCLUDED.passkey, updated_at = now()
RETURNING id, name
