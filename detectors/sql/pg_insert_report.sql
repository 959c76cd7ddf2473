INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity, evidence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (detector, subject_kind, subject_id) WHERE status = 'open' DO NOTHING
RETURNING id
