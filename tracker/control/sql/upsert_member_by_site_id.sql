-- A member the site knows by its id: created, or its passkey, class and
-- leech right replaced; a member the site had removed is restored.
-- $1 site id, $2 name, $3 passkey, $4 class (NULL: keep, 'member' on
-- create), $5 can_leech (NULL: keep, TRUE on create), $6 the removal reason.
INSERT INTO users AS u (site_id, name, passkey, class, can_leech)
VALUES ($1, $2, $3, coalesce($4, 'member'), coalesce($5, TRUE))
ON CONFLICT (site_id) DO UPDATE SET
    passkey         = EXCLUDED.passkey,
    class           = coalesce($4, u.class),
    can_leech       = coalesce($5, u.can_leech),
    enabled         = u.enabled OR u.disabled_reason IS NOT DISTINCT FROM $6,
    disabled_reason = CASE WHEN u.disabled_reason IS NOT DISTINCT FROM $6 THEN NULL ELSE u.disabled_reason END,
    updated_at      = now()
RETURNING id, (xmax = 0)
