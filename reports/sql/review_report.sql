UPDATE cheat_reports
SET status = $2, verdict = $3, reverse_uploaded = $4, reverse_downloaded = $5,
    note = $6, reviewer_id = $7, reviewed_at = now(), updated_at = now(),
    -- a proposal is kept when a second admin confirms it ($8), dropped when
    -- another review supersedes it
    proposed_review = CASE WHEN $8 THEN proposed_review END,
    proposed_by = CASE WHEN $8 THEN proposed_by END,
    proposed_at = CASE WHEN $8 THEN proposed_at END
WHERE id = $1 AND status = 'open'
RETURNING id
