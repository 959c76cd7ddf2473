-- Members of the file trading passkeys with each other hold a throwaway one
-- until users_update gives each its new passkey (users.passkey is unique at
-- every row change, not at commit).
UPDATE users SET passkey = md5(random()::text || id::text)
WHERE id = ANY ($1::bigint[])
