-- Members as the tracker needs them; $1 NULL loads all, else one id.
SELECT id, passkey, enabled, coalesce(disabled_reason, ''), can_leech
FROM users
WHERE $1::bigint IS NULL OR id = $1
