-- Members outside the file ($2: its names) that hold one of its passkeys ($1).
SELECT id, name, passkey
FROM users
WHERE passkey = ANY ($1::text[]) AND name <> ALL ($2::text[])
