SELECT r.id, r.detector, r.subject_kind, r.subject_id, r.window_start, r.window_end,
       r.score, r.severity, r.status, r.note, r.created_at, r.updated_at, r.reviewed_at,
       COALESCE(s.name, ''), r.verdict, r.enforced_at,
       r.evidence, r.reverse_uploaded::text, r.reverse_downloaded::text, COALESCE(r.enforce_error, '')
FROM cheat_reports r
LEFT JOIN staff s ON s.id = r.reviewer_id
WHERE r.id = $1
