-- A reviewed report not yet carried out goes back to the queue, unless the
-- detector has opened another report on the same subject since.
UPDATE cheat_reports r
SET status = 'open', verdict = '{}', reverse_uploaded = NULL, reverse_downloaded = NULL,
    reviewer_id = NULL, reviewed_at = NULL, enforce_error = NULL, updated_at = now()
WHERE r.id = $1 AND r.status <> 'open' AND r.enforced_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM cheat_reports o WHERE o.status = 'open' AND o.detector = r.detector
                  AND o.subject_kind = r.subject_kind AND o.subject_id = r.subject_id)
RETURNING r.id
