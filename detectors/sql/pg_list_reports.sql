SELECT id, detector, subject_kind, subject_id, window_start, window_end, score, severity,
       evidence, status, note, created_at, updated_at
FROM cheat_reports
WHERE ($1 = '' OR status = $1) AND ($2 = '' OR detector = $2)
ORDER BY updated_at DESC, id DESC
LIMIT $3
