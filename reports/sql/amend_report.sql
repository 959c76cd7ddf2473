-- A reviewed report not yet carried out by enforce takes a new review.
UPDATE cheat_reports
SET status = $2, verdict = $3, reverse_uploaded = $4, reverse_downloaded = $5,
    note = $6, reviewer_id = $7, reviewed_at = now(), updated_at = now(), enforce_error = NULL
WHERE id = $1 AND status <> 'open' AND enforced_at IS NULL
RETURNING id
