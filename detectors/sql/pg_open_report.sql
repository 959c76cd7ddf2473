SELECT id, score, severity, coalesce((evidence->>'magnitude')::float8, 0)
FROM cheat_reports
WHERE detector = $1 AND subject_kind = $2 AND subject_id = $3 AND status = 'open'
FOR UPDATE
