UPDATE cheat_reports
SET status = $2, verdict = $3, reverse_uploaded = $4, reverse_downloaded = $5,
    note = $6, reviewer_id = $7, reviewed_at = now(), updated_at = now()
WHERE id = $1 AND status = 'open'
RETURNING id
