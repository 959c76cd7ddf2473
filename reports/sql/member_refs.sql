-- Members with their standing, for the inviter and invitee lists and names
-- seen beside a member: enabled, can_leech, credited ratio, open reports.
SELECT u.id, u.name, u.class, u.enabled, u.can_leech,
       CASE WHEN COALESCE(t.credited_downloaded, 0) > 0 THEN (t.credited_uploaded / t.credited_downloaded)::float8 END,
       (SELECT count(*) FROM cheat_reports r WHERE r.status = 'open' AND r.subject_kind = 'user' AND r.subject_id = u.id::text)
FROM users u
LEFT JOIN ledger_user_totals t ON t.user_id = u.id
WHERE u.id = ANY($1) OR ($2::bigint IS NOT NULL AND u.invited_by = $2)
ORDER BY u.name
LIMIT 500
