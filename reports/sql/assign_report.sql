-- Assign an open report to a staff member (NULL: nobody); the old assignee is returned.
UPDATE cheat_reports n
SET assignee_id = $2, assigned_at = CASE WHEN $2::bigint IS NULL THEN NULL ELSE now() END
FROM cheat_reports o
LEFT JOIN staff s ON s.id = o.assignee_id
WHERE n.id = $1 AND o.id = n.id AND n.status = 'open'
RETURNING COALESCE(s.name, '')
