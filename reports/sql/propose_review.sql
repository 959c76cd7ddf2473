UPDATE cheat_reports
SET proposed_review = $2, proposed_by = $3, proposed_at = now(), updated_at = now()
WHERE id = $1 AND status = 'open'
RETURNING id
