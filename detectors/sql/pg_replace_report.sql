UPDATE cheat_reports
SET window_start = LEAST(window_start, $2), window_end = GREATEST(window_end, $3),
    score = $4, severity = $5, evidence = $6, updated_at = now()
WHERE id = $1
