-- Members with their standing, for the inviter and invitees lists: enabled,
-- can_leech, credited ratio, open reports (counted once over the open
-- reports, not once per member).
WITH m AS (
    SELECT u.id, u.name, u.class, u.enabled, u.can_leech
    FROM users u
    WHERE u.id = ANY($1) OR ($2::bigint IS NOT NULL AND u.invited_by = $2)
    ORDER BY u.name
    LIMIT 500
), open AS (
    SELECT r.subject_id, count(*) AS n
    FROM cheat_reports r
    WHERE r.status = 'open' AND r.subject_kind = 'user' AND r.subject_id IN (SELECT m.id::text FROM m)
    GROUP BY r.subject_id
)
SELECT m.id, m.name, m.class, m.enabled, m.can_leech,
       CASE WHEN COALESCE(t.credited_downloaded, 0) > 0 THEN (t.credited_uploaded / t.credited_downloaded)::float8 END,
       COALESCE(o.n, 0)
FROM m
LEFT JOIN ledger_user_totals t ON t.user_id = m.id
LEFT JOIN open o ON o.subject_id = m.id::text
ORDER BY m.name
