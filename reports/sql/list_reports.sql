SELECT r.id, r.detector, r.subject_kind, r.subject_id, r.window_start, r.window_end,
       r.score, r.severity, r.status, r.note, r.created_at, r.updated_at, r.reviewed_at,
       COALESCE(s.name, ''), r.verdict, r.enforced_at
FROM cheat_reports r
LEFT JOIN staff s ON s.id = r.reviewer_id
WHERE ($1 = '' OR r.status = $1)
  AND ($2 = '' OR r.detector = $2)
  AND ($3 = '' OR r.severity = $3)
  AND ($4 = '' OR (r.subject_kind = 'user' AND r.subject_id = $4))
  AND ($5 = 0 OR r.id < $5)
ORDER BY r.id DESC
LIMIT $6
