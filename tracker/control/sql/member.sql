SELECT u.id, u.site_id, u.name, u.passkey, u.class, u.enabled, coalesce(u.disabled_reason, ''), u.can_leech,
       pf.user_id IS NOT NULL, pf.until, mc.site_group_id
FROM users u
LEFT JOIN personal_freeleech pf ON pf.user_id = u.id
LEFT JOIN member_classes mc ON mc.class = u.class
WHERE u.id = $1
