-- Audit rows, newest first, narrowed by actor, action (prefix), subject,
-- time and keyset paging; $8 adds the rows about the given cheat reports
-- (a member's history holds the reviews of the reports about them).
SELECT a.id, a.at, a.actor, a.action, a.subject_kind, a.subject_id, a.reason,
       COALESCE(a.before::text, ''), COALESCE(a.after::text, '')
FROM audit_log a
WHERE ($1 = '' OR a.actor = $1 OR a.actor = 'staff:' || $1)
  AND ($2 = '' OR a.action = $2 OR a.action LIKE $2 || '.%')
  AND (($3 = '' OR a.subject_kind = $3) AND ($4 = '' OR a.subject_id = $4)
       OR (a.subject_kind = 'cheat_report' AND a.subject_id = ANY($8)))
  AND ($5::timestamptz IS NULL OR a.at >= $5)
  AND ($6::timestamptz IS NULL OR a.at < $6)
  AND ($7 = 0 OR a.id < $7)
ORDER BY a.id DESC
LIMIT $9
