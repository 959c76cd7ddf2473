-- The members a site file names (its records, inviters and uploaders), locked
-- until the import commits.
SELECT id, name, passkey, class, enabled, invited_by, created_at, site_id
FROM users
WHERE name = ANY ($1::text[])
FOR UPDATE
