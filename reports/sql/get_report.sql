SELECT r.id, r.detector, r.subject_kind, r.subject_id, r.window_start, r.window_end,
       r.score, r.severity, r.status, r.note, r.created_at, r.updated_at, r.reviewed_at,
       COALESCE(s.name, ''), r.verdict, r.enforced_at,
       r.evidence, r.reverse_uploaded::text, r.reverse_downloaded::text, COALESCE(r.enforce_error, ''),
       -- the member behind the report (as list_reports.sql names it)
       COALESCE(CASE r.subject_kind
                  WHEN 'user' THEN r.subject_id
                  WHEN 'passkey' THEN COALESCE(r.evidence->>'user_id',
                      CASE WHEN r.subject_id LIKE 'user:%' THEN substr(r.subject_id, 6) END,
                      (SELECT u.id::text FROM users u WHERE u.passkey = r.subject_id))
                END, ''),
       COALESCE(r.proposed_review::text, ''), r.proposed_by, COALESCE(p.name, ''), r.proposed_at,
       COALESCE(a.name, '')
FROM cheat_reports r
LEFT JOIN staff a ON a.id = r.assignee_id
LEFT JOIN staff s ON s.id = r.reviewer_id
LEFT JOIN staff p ON p.id = r.proposed_by
WHERE r.id = $1
