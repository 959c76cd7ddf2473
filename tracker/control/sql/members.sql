-- Members as the control surface shows them, by id ascending: $1 one id
-- (NULL: any), $2 class, $3 enabled, $4 removed by the site (disabled with
-- $5, control.RemovedReason) — each NULL: any; ids above $6, at most $7.
SELECT u.id, u.site_id, u.name, u.passkey, u.class, u.enabled, coalesce(u.disabled_reason, ''), u.can_leech,
       pf.user_id IS NOT NULL, pf.until, mc.site_group_id
FROM users u
LEFT JOIN personal_freeleech pf ON pf.user_id = u.id
LEFT JOIN member_classes mc ON mc.class = u.class
WHERE ($1::bigint IS NULL OR u.id = $1)
  AND ($2::text IS NULL OR u.class = $2)
  AND ($3::boolean IS NULL OR u.enabled = $3)
  AND ($4::boolean IS NULL OR (NOT u.enabled AND coalesce(u.disabled_reason, '') = $5::text) = $4)
  AND u.id > $6
ORDER BY u.id
LIMIT $7
