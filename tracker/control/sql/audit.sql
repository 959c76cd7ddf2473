INSERT INTO audit_log (actor, action, subject_kind, subject_id, reason, after)
VALUES ($1, $2, $3, $4, $5, $6)
