-- Cheat reports about the run's members (by name prefix for sim/'s runs, by
-- sim_run_members for named ones); passkey subjects resolved to members (by
-- passkey, or 'user:ID' when the detector had no passkey).
SELECT r.id, r.detector, u.id, r.status, r.score
FROM cheat_reports r
JOIN users u ON (r.subject_kind = 'user' AND u.id::text = r.subject_id)
             OR (r.subject_kind = 'passkey' AND (u.passkey = r.subject_id OR r.subject_id = 'user:' || u.id))
JOIN sim_runs s ON s.run = $1
WHERE (s.user_prefix IS NOT NULL AND starts_with(u.name, s.user_prefix))
   OR EXISTS (SELECT 1 FROM sim_run_members m WHERE m.run = s.run AND m.user_id = u.id)
ORDER BY r.detector, u.id, r.id
