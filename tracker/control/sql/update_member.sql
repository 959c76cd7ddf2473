-- $1 id; NULL leaves a field as it is.
UPDATE users SET
    passkey         = coalesce($2, passkey),
    class           = coalesce($3, class),
    can_leech       = coalesce($4, can_leech),
    enabled         = coalesce($5, enabled),
    disabled_reason = CASE WHEN coalesce($5, enabled) THEN NULL ELSE coalesce($6, disabled_reason) END,
    updated_at      = now()
WHERE id = $1
