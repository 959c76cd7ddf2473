-- Members as the tracker needs them, with their class's promotion and their
-- personal freeleech, their class's download slots (NULL: unlimited) and the
-- site's id of them (0: none); $1 NULL loads all, else one id.
SELECT u.id, u.passkey, u.enabled, coalesce(u.disabled_reason, ''), u.can_leech,
       mc.class IS NOT NULL, coalesce(mc.download_percent, 100), coalesce(mc.upload_percent, 100),
       pf.user_id IS NOT NULL, pf.until, mc.download_slots, coalesce(u.site_id, 0)
FROM users u
LEFT JOIN member_classes mc ON mc.class = u.class
LEFT JOIN personal_freeleech pf ON pf.user_id = u.id
WHERE $1::bigint IS NULL OR u.id = $1
